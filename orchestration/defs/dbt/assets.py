"""The dbt models as assets: one `dbt build` per refresh, its tests included.

The dbt tests are not Dagster asset checks: with ~560 of them, each check was two events written to the
instance's SQLite storage at run creation and again as it ran (about 15 s of a small refresh's 80 s, and
the same at every launch from the UI, dagster-io/dagster#33831). A failed test fails this step, with the
tests and what each means in its message; the refresh summary names them too (orchestration/dbt/outcomes.py).
The marts' generic tests (LEFT_TO_THE_GATE, a tag in dbt_project.yml) are left to the quality gate, which
checks each of them as an asset check right after this step (expectations/): run here too, each rule
would be checked twice per refresh (407 of the ~560 data tests)."""


# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at definition time
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt.outcomes import failed_nodes, read_outcomes, warned_nodes
from orchestration.dbt.runner import LEFT_TO_THE_GATE, dbt_cli_arguments, engine_environment
from orchestration.defs.automation import is_full_refresh
from orchestration.defs.dbt.translator import WarehouseTranslator
from orchestration.progress import say
from orchestration.serving.publish import VALIDATED_THROUGH_VARIABLE, validated_through
from orchestration.settings import Settings

RUN_FOLDER_PREFIX = "run-"
KEPT_RUN_FOLDERS = 5
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def run_folder(settings: Settings, run_id: str) -> Path:
    """A dbt target folder of its own per run, so concurrent runs never share one. The quality gate reads
    the build's manifest (its rules, compiled) from it; the last few are kept for a look at their logs."""
    return settings.dbt_target / f"{RUN_FOLDER_PREFIX}{run_id}"


def _remove_old_run_folders(settings: Settings) -> None:
    folders = sorted(settings.dbt_target.glob(f"{RUN_FOLDER_PREFIX}*"), key=lambda folder: folder.stat().st_mtime)
    for old in folders[:-KEPT_RUN_FOLDERS]:
        shutil.rmtree(old, ignore_errors=True)


def _seed_partial_parse(settings: Settings, folder: Path) -> None:
    """Start the run's folder with the parse state of the manifest just prepared, so dbt parses only what
    changed since (about 8 s less per refresh); dbt re-parses in full when the state does not fit."""
    state = settings.dbt_target / PARTIAL_PARSE_FILE
    if state.exists():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(state, folder / PARTIAL_PARSE_FILE)


def dbt_model_assets(settings: Settings, project: DbtProject) -> dg.AssetsDefinition:
    manifest = json.loads(Path(project.manifest_path).read_text())
    models = sum(1 for node in manifest["nodes"].values() if node["resource_type"] == "model")

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False)),
        required_resource_keys={"dbt", "warehouse_lock"},
    )
    def warehouse_models(context: dg.AssetExecutionContext) -> Iterator[Any]:
        """`dbt build`: seeds, staging, intermediate and marts with their tests."""
        _remove_old_run_folders(settings)
        full = is_full_refresh(context.run.tags)
        kind = "a full refresh: every model rebuilt from all history" if full else f"{models} models with their tests"
        say(f"building the dbt models (dbt build: {kind})")
        built = 0
        dbt: DbtCliResource = context.resources.dbt
        folder = run_folder(settings, context.run.run_id)
        _seed_partial_parse(settings, folder)
        # a nightly build tests the rows built since the last publish (macros/tests/where_subquery.sql)
        # (an environment variable, not a dbt var: a var that changes each night would cost a full parse each night)
        through = None if full else validated_through(settings.serving_file)
        with engine_environment(settings, {VALIDATED_THROUGH_VARIABLE: through or ""}):
            invocation = dbt.cli(["build", *(["--full-refresh"] if full else []), *LEFT_TO_THE_GATE, *dbt_cli_arguments(settings)],
                                 context=context, target_path=folder, raise_on_error=False)
            for event in invocation.stream():
                # a test's result comes as an observation of its model: not stored (see the module's docstring)
                if isinstance(event, (dg.Output, dg.AssetMaterialization)):
                    built += 1
                    name = getattr(event, "output_name", None) or event.asset_key.to_user_string()
                    say(f"  dbt {built} of {models} models: {name}")
                    yield event
        outcomes = read_outcomes(folder)
        broken = [outcome.describe() for outcome in failed_nodes(outcomes)]
        warned = [outcome.describe() for outcome in warned_nodes(outcomes)]
        for line in broken:
            say(f"  dbt FAILED: {line}")
        tests = sum(1 for outcome in outcomes if outcome.is_test)
        failed_tests = sum(1 for outcome in failed_nodes(outcomes) if outcome.is_test)
        say(f"dbt build done: {built} models, {tests} tests ({failed_tests} failed, {len(warned)} warned)")
        if not invocation.is_successful():
            raise dg.Failure(description="dbt build failed: " + ("; ".join(broken) or f"dbt exited with an error; its log is {folder / 'dbt.log'}"),
                             metadata={"failed": broken, "warned": warned, "dbt log": str(folder / "dbt.log")})

    return warehouse_models

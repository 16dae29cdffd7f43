"""`crm-kpis metrics`: MetricFlow's `mf` against the published serving file, never the working warehouse.

`mf` finds its dbt project, profile and `target/semantic_manifest.json` in its working folder. The repo's own
project would point it at the working warehouse, which the pipeline writes, so every call lays out a
small project of its own under the home's dbt folder: a profile opening DuckDB in memory with the serving
file attached read-only (under the catalog name the semantic manifest's relations use), and the semantic
manifest published with that serving file, so the metric definitions always match the served marts.
MetricFlow only reads: the serving file stays 0444 and unlocked for other readers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.serving.semantic_manifest import published_semantic_manifest
from orchestration.settings import Settings

PROFILE_NAME = "crm_kpis_serving"


class MetricsUnavailable(RuntimeError):
    """Nothing published to query yet; the message says what to run."""


def relation_database(semantic_manifest: dict) -> str:
    """The catalog name the manifest's relations use ("warehouse"."marts"."x"): the working warehouse's
    file name, which the serving file is attached under."""
    databases = {model["node_relation"]["database"] for model in semantic_manifest["semantic_models"]}
    databases |= {spine["node_relation"]["database"] for spine in semantic_manifest["project_configuration"].get("time_spines", [])}
    if len(databases) != 1:
        raise MetricsUnavailable(f"the semantic manifest names {len(databases)} databases ({', '.join(sorted(map(str, databases)))}); expected one")
    return databases.pop()


def _profile(serving_file: Path, database: str, settings: Settings) -> dict:
    return {PROFILE_NAME: {"target": "serving", "outputs": {"serving": {
        "type": "duckdb",
        "path": ":memory:",
        "attach": [{"path": str(serving_file.resolve()), "alias": database, "read_only": True}],
        "threads": 1,
        "settings": {"TimeZone": "UTC", "memory_limit": settings.warehouse_config.memory_limit,
                     "threads": settings.warehouse_config.threads},
    }}}}


def prepare_metricflow_project(settings: Settings, serving_file: Path | None = None) -> Path:
    """The folder `mf` runs in, for the serving file (default: the published one) and the semantic
    manifest published beside it."""
    serving_file = serving_file or settings.serving_file
    if not serving_file.exists():
        raise MetricsUnavailable(f"no serving file at {serving_file}: run `crm-kpis refresh` (or `make demo`) first")
    manifest_path = published_semantic_manifest(serving_file.parent)
    if not manifest_path.exists():
        raise MetricsUnavailable(f"{serving_file} was published without a semantic manifest ({manifest_path}): "
                                 "run `crm-kpis refresh` to publish again")
    semantic_manifest = json.loads(manifest_path.read_text())
    folder = settings.metricflow_project
    (folder / "target").mkdir(parents=True, exist_ok=True)
    # JSON is YAML: no quoting rules to get wrong for paths
    (folder / "dbt_project.yml").write_text(json.dumps(
        {"name": "crm_kpis_metrics", "version": "1.0", "config-version": 2, "profile": PROFILE_NAME}, indent=2))
    (folder / "profiles.yml").write_text(json.dumps(_profile(serving_file, relation_database(semantic_manifest), settings), indent=2))
    target = folder / "target" / "semantic_manifest.json"
    target.unlink(missing_ok=True)
    shutil.copyfile(manifest_path, target)
    target.chmod(0o644)
    return folder


def metricflow_command(arguments: list[str]) -> list[str]:
    return [sys.executable, "-m", "orchestration.semantic.mf_entry", *arguments]


def run_metricflow(settings: Settings, arguments: list[str], serving_file: Path | None = None,
                   capture: bool = False) -> subprocess.CompletedProcess:
    """`mf <arguments>` (e.g. `query --metrics win_rate --group-by metric_time__quarter`) on the serving file."""
    folder = prepare_metricflow_project(settings, serving_file)
    environment = {**os.environ, "DBT_PROJECT_DIR": str(folder), "DBT_PROFILES_DIR": str(folder),
                   # dbt's own anonymous usage statistics: a network call per invocation
                   "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(metricflow_command(arguments), cwd=folder, env=environment, text=True, capture_output=capture)

"""The one way dbt is run: the project's own dbt (`crm-kpis-dbt`, never whatever is on PATH), on the
engine's target, with every var from the settings. The CLI (`crm-kpis dbt`), the tests, the benchmark
and dagster-dbt (through `dbt_cli_arguments`) all go through here."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expectations.manifest_rules import GATE_RULE_TAG
from orchestration.settings import PROJECT_DIR, Settings

if TYPE_CHECKING:
    from orchestration.engines import Engine

# what a refresh's dbt build leaves out: the marts' generic tests, which the quality gate checks right after it
# on the same rows (dbt_project.yml, data_tests), so each rule is checked once per refresh
LEFT_TO_THE_GATE = ("--exclude", f"tag:{GATE_RULE_TAG}")


def dbt_executable() -> Path:
    """The project's dbt, as a child that dies with its parent (orchestration/dbt/child.py)."""
    return Path(sys.executable).parent / "crm-kpis-dbt"


def dbt_target_dir(warehouse: Path, engine: str = "duckdb") -> Path:
    """Where run_dbt's dbt writes its artifacts (manifest, compiled SQL, logs) for this warehouse: beside
    it, so builds of different warehouses never share (or race for) the project's own target/; one per
    engine, since switching the target forces a full parse."""
    return warehouse.resolve().parent / ("dbt_target" if engine == "duckdb" else f"dbt_target_{engine}")


def dbt_cli_arguments(settings: Settings) -> list[str]:
    """What every dbt command needs after its own arguments: the engine's target and the settings' vars."""
    return ["--target", settings.engine, *settings.dbt_vars_argument()]


@contextlib.contextmanager
def engine_environment(settings: Settings, extra: dict[str, str] | None = None) -> Iterator[None]:
    """This process's environment with what a dbt child needs for the settings' engine (dagster-dbt starts
    dbt with this process's environment): Postgres's session time zone, Spark's session options; and `extra`."""
    from orchestration.engines import engine_dbt_environment

    previous = dict(os.environ)
    os.environ.update(engine_dbt_environment(settings))
    os.environ.update(extra or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(previous)


def settings_for_warehouse(warehouse: Path, as_of: date | None = None, variables: dict[str, Any] | None = None) -> Settings:
    """Settings of a warehouse file alone (tests, benchmark): defaults and the given vars, nothing
    from this process's environment."""
    overrides: dict[str, Any] = dict(variables or {})
    if as_of is not None:
        overrides["as_of_date"] = as_of
    return Settings.from_environment({}, home=str(warehouse.resolve().parent), warehouse=str(warehouse.resolve()), **overrides)


def run_dbt(
    arguments: list[str],
    settings: Settings | Path,
    quiet: bool = False,
    as_of: date | None = None,
    variables: dict[str, object] | None = None,
    target_dir: Path | None = None,
    engine: Engine | None = None,
) -> subprocess.CompletedProcess:
    """One dbt invocation (each costs ~4 s of start-up, so callers prefer one `build`). `settings` may
    be a warehouse path, for `settings_for_warehouse(path, as_of, variables)`. Artifacts (manifest,
    compiled SQL, logs) go to `target_dir`, by default beside the warehouse.

    dbt builds on the settings' engine (or on `engine`, an open one) as a child process, except on an open
    Spark engine's in-process session: dbt runs in this process on that session then (one JVM), its output
    collected as a child's would be."""
    if isinstance(settings, Path):
        settings = settings_for_warehouse(settings, as_of, variables)
    elif as_of is not None or variables:
        settings = settings.with_overrides(**({"as_of_date": as_of} if as_of else {}), **(variables or {}))
    if engine is not None and engine.name != settings.engine:
        settings = settings.with_overrides(engine=engine.name)
    target = target_dir or dbt_target_dir(settings.warehouse, settings.engine)
    options = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(target), "--log-path", str(target / "logs"), *dbt_cli_arguments(settings)]
    if engine is not None and engine.runs_dbt_in_process:
        return _run_dbt_in_process([*arguments, *options], engine.dbt_environment(), quiet)
    from orchestration.engines import engine_dbt_environment

    environment = {**os.environ, **(engine.dbt_environment() if engine else engine_dbt_environment(settings))}
    command = [str(dbt_executable()), *arguments, *options]
    return subprocess.run(command, cwd=PROJECT_DIR, env=environment, capture_output=quiet, text=True)


def _run_dbt_in_process(arguments: list[str], environment: dict[str, str], quiet: bool) -> subprocess.CompletedProcess:
    """dbt's own runner in this process, with the environment it would have had as a child; its log lines
    become the result's stdout, as a child's would."""
    from dbt.cli.main import dbtRunner

    lines: list[str] = []

    def collect(event: object) -> None:
        info = getattr(event, "info", None)
        if info is not None and info.msg and info.level != "debug":
            lines.append(str(info.msg))

    previous = dict(os.environ)
    os.environ.update(environment)
    try:
        result = dbtRunner(callbacks=[collect]).invoke([*(["--quiet"] if quiet else []), *arguments])
    finally:
        os.environ.clear()
        os.environ.update(previous)
    code = 0 if result.success else (1 if result.exception is None else 2)
    output = "\n".join(lines) + (f"\n{result.exception}" if result.exception is not None else "")
    return subprocess.CompletedProcess(["dbt", *arguments], code, stdout=output, stderr="")

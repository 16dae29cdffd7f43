"""Running dbt on the warehouse with the project's own dbt (not whatever is on PATH)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Iterator

from orchestration.engines import DEFAULT_ENGINE, Engine, engine_dbt_environment, engine_name

PROJECT_DIR = Path(__file__).resolve().parent.parent


def dbt_executable() -> Path:
    """The project's dbt, as a child that dies with its parent (orchestration/dbt_child.py)."""
    return Path(sys.executable).parent / "crm-kpis-dbt"


def dbt_target_dir(warehouse: Path) -> Path:
    """Where run_dbt's dbt writes its artifacts (manifest, compiled SQL, logs) for this warehouse: beside
    it, so builds of different warehouses never share (or race for) the project's own target/."""
    return warehouse.resolve().parent / "dbt_target"


def run_dbt(
    arguments: list[str],
    warehouse: Path,
    quiet: bool = False,
    as_of: date | None = None,
    variables: dict[str, object] | None = None,
    target_dir: Path | None = None,
    engine: Engine | str | None = None,
) -> subprocess.CompletedProcess:
    """One dbt invocation (each costs ~4 s of start-up, so callers prefer one `build`).
    `as_of` pins the build date of point-in-time KPIs (data generated for a past date needs it);
    `variables` are further dbt vars (crm_sources, calendar_start, ...). Artifacts (manifest, compiled
    SQL, logs) go to `target_dir`, by default dbt_target_dir(warehouse) (per engine but DuckDB's, since
    switching the target forces a full parse).

    `engine` (an open Engine, or a name; default CRM_KPIS_ENGINE, else duckdb) picks the dbt target and
    its environment. dbt runs as a child process, except when given an open Spark engine: then it runs in
    this process on that engine's session (its output is collected the same way). Given the name spark,
    the child starts a session of its own, so no other process may hold the Spark metastore meanwhile."""
    chosen = engine if isinstance(engine, Engine) else None
    name = chosen.name if chosen else engine_name(engine)
    environment = {**os.environ, **(chosen.dbt_environment(warehouse) if chosen else engine_dbt_environment(name, warehouse))}
    target = target_dir or dbt_target_dir(warehouse)
    if target_dir is None and name != DEFAULT_ENGINE:
        target = target.with_name(f"{target.name}_{name}")
    options = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(target), "--log-path", str(target / "logs")]
    all_variables = dict(variables or {})
    if as_of is not None:
        all_variables["as_of_date"] = as_of.isoformat()
    if all_variables:
        options += ["--vars", json.dumps(all_variables)]
    if chosen is not None and chosen.runs_dbt_in_process:
        return _run_dbt_in_process([*arguments, *options], environment, quiet)
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
    os.environ.clear()
    os.environ.update(environment)
    try:
        result = dbtRunner(callbacks=[collect]).invoke([*(["--quiet"] if quiet else []), *arguments])
    finally:
        os.environ.clear()
        os.environ.update(previous)
    code = 0 if result.success else (1 if result.exception is None else 2)
    output = "\n".join(lines) + (f"\n{result.exception}" if result.exception is not None else "")
    return subprocess.CompletedProcess(["dbt", *arguments], code, stdout=output, stderr="")


@contextlib.contextmanager
def warehouse_environment(warehouse: Path) -> Iterator[None]:
    """CRM_KPIS_WAREHOUSE as an absolute path for dbt processes started inside (profiles.yml reads it,
    relative to dbt's own working folder otherwise); the previous value is restored afterwards."""
    previous = os.environ.get("CRM_KPIS_WAREHOUSE")
    os.environ["CRM_KPIS_WAREHOUSE"] = str(warehouse.resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("CRM_KPIS_WAREHOUSE", None)
        else:
            os.environ["CRM_KPIS_WAREHOUSE"] = previous

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
) -> subprocess.CompletedProcess:
    """One dbt invocation (each costs ~4 s of start-up, so callers prefer one `build`).
    `as_of` pins the build date of point-in-time KPIs (data generated for a past date needs it);
    `variables` are further dbt vars (crm_sources, calendar_start, ...). Artifacts (manifest, compiled
    SQL, logs) go to `target_dir`, by default dbt_target_dir(warehouse)."""
    environment = {**os.environ, "CRM_KPIS_WAREHOUSE": str(warehouse.resolve())}
    command = [str(dbt_executable()), *arguments, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    target = target_dir or dbt_target_dir(warehouse)
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    all_variables = dict(variables or {})
    if as_of is not None:
        all_variables["as_of_date"] = as_of.isoformat()
    if all_variables:
        command += ["--vars", json.dumps(all_variables)]
    return subprocess.run(command, cwd=PROJECT_DIR, env=environment, capture_output=quiet, text=True)


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

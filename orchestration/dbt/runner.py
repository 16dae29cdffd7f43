"""The one way dbt is run: the project's own dbt (`crm-kpis-dbt`, never whatever is on PATH), on the
engine's target, with every var from the settings. The CLI (`crm-kpis dbt`), the tests, the benchmark
and dagster-dbt (through `dbt_cli_arguments`) all go through here."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from orchestration.settings import PROJECT_DIR, Settings


def dbt_executable() -> Path:
    """The project's dbt, as a child that dies with its parent (orchestration/dbt/child.py)."""
    return Path(sys.executable).parent / "crm-kpis-dbt"


def dbt_target_dir(warehouse: Path) -> Path:
    """Where run_dbt's dbt writes its artifacts (manifest, compiled SQL, logs) for this warehouse: beside
    it, so builds of different warehouses never share (or race for) the project's own target/."""
    return warehouse.resolve().parent / "dbt_target"


def dbt_cli_arguments(settings: Settings) -> list[str]:
    """What every dbt command needs after its own arguments: the engine's target and the settings' vars."""
    return ["--target", settings.engine, *settings.dbt_vars_argument()]


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
) -> subprocess.CompletedProcess:
    """One dbt invocation (each costs ~4 s of start-up, so callers prefer one `build`). `settings` may
    be a warehouse path, for `settings_for_warehouse(path, as_of, variables)`. Artifacts (manifest,
    compiled SQL, logs) go to `target_dir`, by default beside the warehouse."""
    if isinstance(settings, Path):
        settings = settings_for_warehouse(settings, as_of, variables)
    elif as_of is not None or variables:
        settings = settings.with_overrides(**({"as_of_date": as_of} if as_of else {}), **(variables or {}))
    target = target_dir or dbt_target_dir(settings.warehouse)
    command = [str(dbt_executable()), *arguments, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(target), "--log-path", str(target / "logs"), *dbt_cli_arguments(settings)]
    return subprocess.run(command, cwd=PROJECT_DIR, capture_output=quiet, text=True)

"""The dbt project as Dagster sees it, and how its manifest is prepared.

The manifest is parsed by the project's one dbt runner (orchestration/dbt/runner.py: the project's own
dbt, the settings' target and vars) before every CLI refresh, by `make manifest`, and at load under
`dagster dev` (where dagster-dbt's `DbtProject.prepare_if_dev()` would run whatever `dbt` is on PATH,
without the settings' vars). There is no staleness check of our own: dbt's partial parsing makes a parse
of an unchanged project quick, and always parsing cannot serve a stale manifest."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.dbt.runner import run_dbt
from orchestration.settings import PROJECT_DIR, Settings


class ManifestNotPrepared(RuntimeError):
    pass


def dbt_project(settings: Settings) -> DbtProject:
    """The manifest and every run's artifacts live under the home's dbt folder: refreshes of different
    homes never share it."""
    return DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=settings.dbt_target, target=settings.engine)


def manifest_path(settings: Settings) -> Path:
    return settings.dbt_target / "manifest.json"


def prepare_manifest(settings: Settings) -> None:
    result = run_dbt(["parse", "--quiet"], settings, quiet=True, target_dir=settings.dbt_target)
    if result.returncode != 0:
        raise ManifestNotPrepared("dbt parse failed: " + (result.stdout + result.stderr).strip()[-1500:])


def prepare_manifest_if_dev(settings: Settings) -> None:
    """What DbtProject.prepare_if_dev() does, by the project's runner: parse under `dagster dev` only."""
    if os.getenv("DAGSTER_IS_DEV_CLI"):
        prepare_manifest(settings)

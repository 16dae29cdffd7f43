"""The code location for one Settings object: landing -> dbt -> quality gate -> publish, one job, a
nightly schedule, a sensor on new landing files and a report on failed runs.

The dbt manifest must exist first (`crm-kpis refresh` prepares it; under `dagster dev`,
`DbtProject.prepare_if_dev()` does); it is never parsed at import time elsewhere."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from expectations.manifest_rules import read_rules
from orchestration.dbt.runner import dbt_executable
from orchestration.defs.automation import failure_sensor, landing_sensor, nightly_schedule, refresh_job
from orchestration.defs.dashboard import dashboard_asset
from orchestration.defs.dbt.assets import dbt_model_assets
from orchestration.defs.dbt.project import dbt_project, manifest_path
from orchestration.defs.landing import landing_assets
from orchestration.defs.publish import published_marts_asset
from orchestration.defs.quality import quality_gate_checks
from orchestration.defs.resources import warehouse_lock_resource
from orchestration.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    project = dbt_project(settings)
    rules = read_rules(manifest_path(settings), settings.dbt_vars())
    job = refresh_job()
    return dg.Definitions(
        assets=[landing_assets(settings), dbt_model_assets(settings, project),
                published_marts_asset(settings, rules.marts, manifest_path(settings)), dashboard_asset(settings)],
        asset_checks=[quality_gate_checks(settings, rules)],
        jobs=[job],
        schedules=[nightly_schedule(settings, job)],
        sensors=[landing_sensor(settings, job), failure_sensor(settings, job)],
        resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=str(dbt_executable()), target=settings.engine),
                   "warehouse_lock": warehouse_lock_resource(settings)},
    )

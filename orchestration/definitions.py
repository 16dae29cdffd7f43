"""The Dagster code location: landing -> dbt -> quality gate -> publish, one job, a nightly schedule,
a sensor on new landing files and a report on failed runs.

`dagster dev` (from the repo root) loads `defs` from here. The dbt manifest must exist first
(`make manifest`, or any `crm-kpis` command that needs it); it is never built at import time."""


import hashlib
import shutil
from pathlib import Path
from typing import Any, Iterator, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from expectations.mart_rules import MART_RULES
from orchestration import settings
from orchestration.dbt_build import PROJECT_DIR, dbt_executable, warehouse_environment
from orchestration.landing import land_directory
from orchestration.landing.contract import CONTRACTS
from orchestration.progress import say
from orchestration.publish import publish, serving_file

TRANSIENT_FAILURE_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def mart_asset_key(mart: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", mart])


PUBLISHED_MARTS_KEY = dg.AssetKey(["serving", "published_marts"])


# --- landing --------------------------------------------------------------------------------------

@dg.multi_asset(
    specs=[dg.AssetSpec(raw_asset_key(table), group_name="landing", kinds={"duckdb"},
                        description=f"raw.{table}: landed from <landing>/{table}/ (CSV, Parquet, JSON lines)")
           for table in CONTRACTS],
    retry_policy=TRANSIENT_FAILURE_RETRY,
)
def landed_raw_tables(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    """Land every new file of the landing folder into the working warehouse's raw tables."""
    landing, warehouse = settings.landing_dir(), settings.warehouse_path()
    if not landing.is_dir() and "crm" not in settings.crm_sources():
        # the selected CRM adapters read what their EL tool loaded; there is nothing to land
        landing.mkdir(parents=True, exist_ok=True)
    say(f"landing files from {landing}")
    report = land_directory(landing, warehouse)
    say(report.summary())
    if not report.invariant_holds:
        raise dg.Failure(description=f"row accounting broken: {report.summary()}")
    for rejected in report.rejected_files:
        context.log.warning(f"rejected file {rejected.file_path}: {rejected.error}")
    for table in CONTRACTS:
        files = [result for result in report.files if result.table_name == table and result.status != "skipped"]
        yield dg.MaterializeResult(asset_key=raw_asset_key(table), metadata={
            "files_landed": sum(1 for result in files if result.status == "landed"),
            "files_rejected": sum(1 for result in files if result.status == "rejected"),
            "rows_landed": sum(result.rows_landed for result in files),
            "rows_rejected": sum(result.rows_rejected for result in files),
            "load_id": report.load_id,
        })


# --- dbt ------------------------------------------------------------------------------------------

class WarehouseTranslator(DagsterDbtTranslator):
    """The crm source's tables are the landed raw tables (raw/<table>), so landing is upstream of
    staging; a CRM adapter's tables (raw_salesforce/<table>, ...) are loaded by its EL tool."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == "crm":
                return raw_asset_key(dbt_resource_props["name"])
            return dg.AssetKey([f"raw_{dbt_resource_props['source_name']}", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "landing" if dbt_resource_props["source_name"] == "crm" else "crm_sources"
        return dbt_resource_props["config"].get("schema") or "dbt"


# the manifest is prepared by ensure_manifest (crm-kpis, make manifest, a test fixture) in the home's
# dbt folder, never parsed here at import
dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=settings.dbt_artifacts_dir())
RUN_FOLDER_PREFIX = "run-"
KEPT_FAILED_RUNS = 5


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build`: seeds, staging, intermediate and marts with their tests (as asset checks)."""
    say("building the dbt models (dbt build)")
    # a folder of its own per run, so concurrent runs (schedule and sensor) never share one; a
    # successful run's is removed, a failed run's is kept beside the others for a look at its logs
    artifacts = settings.dbt_artifacts_dir()
    failed_runs = sorted(artifacts.glob(f"{RUN_FOLDER_PREFIX}*"), key=lambda folder: folder.stat().st_mtime)
    for old in failed_runs[:-KEPT_FAILED_RUNS]:
        shutil.rmtree(old, ignore_errors=True)
    run_folder = artifacts / f"{RUN_FOLDER_PREFIX}{context.run.run_id}"
    with warehouse_environment(settings.warehouse_path()):
        yield from dbt.cli(["build"], context=context, target_path=run_folder).stream()
    shutil.rmtree(run_folder, ignore_errors=True)


# --- quality gate ---------------------------------------------------------------------------------

GATE_CHECKS = [
    *(dg.AssetCheckSpec("great_expectations", asset=mart_asset_key(mart), blocking=True,
                        description="GE suite: grain unique, ratios in [0, 1], amounts >= 0, keys in their dimension")
      for mart in MART_RULES),
    dg.AssetCheckSpec("cross_kpi_consistency", asset=mart_asset_key("fct_kpi_quota_attainment"), blocking=True,
                      description="bookings agree across quota attainment, win rate and deal size; MRR movements reconcile; "
                                  "company forecast = sum of teams"),
    dg.AssetCheckSpec("row_counts_vs_published", asset=mart_asset_key("fct_kpi_win_rate"), blocking=True,
                      description="every mart's row count within CRM_KPIS_GATE_MAX_ROW_CHANGE of the published version"),
    dg.AssetCheckSpec("bookings_vs_published", asset=mart_asset_key("fct_kpi_win_rate"), blocking=True,
                      description="total bookings within CRM_KPIS_GATE_MAX_BOOKINGS_CHANGE of the published version"),
    dg.AssetCheckSpec("freshness", asset=mart_asset_key("fct_kpi_pipeline_value"), blocking=True,
                      description="the newest landed opportunity change is at most CRM_KPIS_GATE_MAX_DATA_AGE_DAYS old"),
]


@dg.multi_asset_check(specs=GATE_CHECKS, can_subset=False)
def quality_gate(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    """Great Expectations on the finished marts of the working warehouse; a failure blocks publishing."""
    from orchestration.quality_gate import report_folder, run_quality_gate

    say("checking the marts (Great Expectations)")
    report = run_quality_gate(settings.warehouse_path(), serving_file(settings.serving_dir()), context.run.run_id)
    report.save(report_folder())
    say(f"quality gate {'passed' if report.passed else 'FAILED'}: {len(report.outcomes) - len(report.failed)} of "
        f"{len(report.outcomes)} checks passed; Data Docs: {report.data_docs}")
    for outcome in report.failed:
        say(f"  failed: {outcome.describe()}")
    for outcome in report.outcomes:
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(list(outcome.asset_key)),
            check_name=outcome.check_name,
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"failures": dg.MetadataValue.json(outcome.failures), "error": outcome.error or "",
                      "data_docs": report.data_docs or ""},
        )


# --- publish --------------------------------------------------------------------------------------

@dg.asset(key=PUBLISHED_MARTS_KEY, group_name="publish", kinds={"duckdb", "parquet"},
          deps=[mart_asset_key(mart) for mart in MART_RULES], retry_policy=TRANSIENT_FAILURE_RETRY)
def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Copy the audited marts into a new serving file (+ Parquet) and swap it in atomically."""
    from orchestration.quality_gate import GateReport, report_folder

    report = GateReport.load(report_folder(), context.run.run_id)
    if report is None or not report.passed:
        # blocking checks already stop this step; this guards a run that skipped or lost the gate
        reason = "the quality gate did not run in this run" if report is None else \
            "; ".join(outcome.describe() for outcome in report.failed)
        raise dg.Failure(description=f"not publishing: {reason}")
    say(f"publishing to {settings.serving_dir()}")
    record = publish(settings.warehouse_path(), settings.serving_dir(), context.run.run_id,
                     [{"check": outcome.check_name, "target": outcome.target, "passed": outcome.passed} for outcome in report.outcomes])
    say(f"published {len(record.row_counts)} marts to {record.serving_file} and {record.parquet_folder}")
    return dg.MaterializeResult(metadata={
        "serving_file": str(record.serving_file), "parquet_folder": str(record.parquet_folder),
        "publish_id": record.publish_id, "row_counts": dg.MetadataValue.json(record.row_counts),
        "total_bookings": record.total_bookings,
    })


# --- dashboard ------------------------------------------------------------------------------------

DASHBOARD_KEY = dg.AssetKey(["serving", "dashboard"])


@dg.asset(key=DASHBOARD_KEY, group_name="publish", kinds={"html"}, deps=[PUBLISHED_MARTS_KEY])
def sales_dashboard() -> dg.MaterializeResult:
    """The sales managers' HTML dashboard, rebuilt from the serving file each time it is published; it
    runs after publishing, so a failure here never holds back or undoes a publish."""
    from orchestration.dashboard import build_dashboard

    report = build_dashboard(serving_file(settings.serving_dir()), settings.dashboard_dir())
    say(f"dashboard written to {report.path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(report.path)), "bytes": report.size_bytes})


# --- job, schedule, sensors -----------------------------------------------------------------------

refresh_job = dg.define_asset_job(
    "refresh", selection=dg.AssetSelection.all(),
    description="Land new files, dbt build, check the marts with Great Expectations, publish them if every check passed.",
)

nightly_refresh = dg.ScheduleDefinition(
    name="nightly_refresh", job=refresh_job, cron_schedule=settings.refresh_cron(),
    execution_timezone=settings.business_timezone(), default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The nightly refresh (CRM_KPIS_REFRESH_CRON, default 02:00, in CRM_KPIS_BUSINESS_TIMEZONE).",
)


def landing_fingerprint(landing: Path) -> str | None:
    """Changes whenever a file is added to, changed in or removed from the landing folders."""
    if not landing.exists():
        return None
    entries = sorted(
        f"{path.relative_to(landing)}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
        for path in landing.rglob("*") if path.is_file() and not path.name.startswith("."))
    return hashlib.sha256("\n".join(entries).encode()).hexdigest() if entries else None


@dg.sensor(job=refresh_job, minimum_interval_seconds=60, description="Starts a refresh when landing files arrive or change.")
def new_landing_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    fingerprint = landing_fingerprint(settings.landing_dir())
    if fingerprint is None:
        return dg.SkipReason(f"no files in {settings.landing_dir()}")
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed landing files")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)


@dg.run_failure_sensor(monitored_jobs=[refresh_job], description="Reports a failed refresh: which step, and why.")
def report_failed_refresh(context: dg.RunFailureSensorContext) -> None:
    from orchestration.failure_report import write_failure_report

    path = write_failure_report(context.dagster_run.run_id, context.failure_event.message or "",
                                [event.step_key or "" for event in context.get_step_failure_events()])
    context.log.error(f"refresh {context.dagster_run.run_id} failed; report: {path}")


defs = dg.Definitions(
    assets=[landed_raw_tables, warehouse_models, published_marts, sales_dashboard],
    asset_checks=[quality_gate],
    jobs=[refresh_job],
    schedules=[nightly_refresh],
    sensors=[new_landing_files, report_failed_refresh],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(dbt_executable()))},
)

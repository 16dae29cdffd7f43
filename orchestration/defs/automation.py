"""What runs the refresh: the job, the nightly schedule, the sensor on new landing files, and the report
on a failed run. The schedule and the failure report are on by default (they need the daemon running:
docs/deployment.md); the landing sensor is off until turned on."""


# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at definition time
import hashlib
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration.defs.failure_report import write_failure_report
from orchestration.run_lock import lock_holder
from orchestration.settings import WEEKDAYS, Settings

JOB_NAME = "refresh"


def refresh_job() -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        JOB_NAME, selection=dg.AssetSelection.all(),
        # one process for the whole run: the warehouse lock (and DuckDB's single writer) are held by it
        executor_def=dg.in_process_executor,
        description="Land new files, dbt build, check the marts with Great Expectations, publish them if every check passed.",
    )


# a run with this tag rebuilds every model from all history (dbt build --full-refresh): `crm-kpis refresh
# --full`, the schedule on the full-refresh weekday, or a launch from the UI with the tag
FULL_REFRESH_TAG = "crm_kpis/full_refresh"


def full_refresh_tags(full: bool) -> dict[str, str]:
    return {FULL_REFRESH_TAG: "true"} if full else {}


def is_full_refresh(tags: Mapping[str, str]) -> bool:
    return tags.get(FULL_REFRESH_TAG, "").lower() == "true"


def nightly_schedule(settings: Settings, job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    weekday = settings.full_refresh_weekday
    full_on = f"; a full refresh on {WEEKDAYS[weekday].capitalize()}s" if weekday is not None else ""

    @dg.schedule(
        name="nightly_refresh", job=job, cron_schedule=settings.refresh_cron,
        execution_timezone=settings.business_timezone, default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"The nightly refresh (CRM_KPIS_REFRESH_CRON, default 02:00, in the business time zone){full_on} "
                    "(CRM_KPIS_FULL_REFRESH_WEEKDAY): what incremental models kept from earlier code or rules is rebuilt.",
    )
    def nightly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # the tick's time is in the schedule's time zone, the business one
        return dg.RunRequest(tags=full_refresh_tags(context.scheduled_execution_time.weekday() == weekday))

    return nightly_refresh


def landing_fingerprint(landing: Path) -> str | None:
    """Changes whenever a file is added to, changed in or removed from the landing folders."""
    if not landing.exists():
        return None
    entries = sorted(
        f"{path.relative_to(landing)}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
        for path in landing.rglob("*") if path.is_file() and not path.name.startswith("."))
    return hashlib.sha256("\n".join(entries).encode()).hexdigest() if entries else None


def landing_sensor(settings: Settings, job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(name="new_landing_files", job=job, minimum_interval_seconds=60,
               description="Starts a refresh when landing files arrive or change (turn it on in the UI).")
    def new_landing_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        holder = lock_holder(settings.warehouse)
        if holder is not None:
            return dg.SkipReason(f"a refresh is running ({holder.describe()}); the files are looked at again after it")
        fingerprint = landing_fingerprint(settings.landing)
        if fingerprint is None:
            return dg.SkipReason(f"no files in {settings.landing}")
        if fingerprint == context.cursor:
            return dg.SkipReason("no new or changed landing files")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)

    return new_landing_files


def step_failure_reason(event: dg.DagsterEvent) -> str:
    """What a failed step said: a dg.Failure's description (the dbt step's names each failed test), else its error."""
    data = event.step_failure_data
    user = data.user_failure_data
    reason = user.description if user and user.description else (data.error.message if data.error else "")
    return f"{event.step_key}: {reason.strip()}"


def failure_sensor(settings: Settings, job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.run_failure_sensor(name="report_failed_refresh", monitored_jobs=[job], default_status=dg.DefaultSensorStatus.RUNNING,
                           description="Reports a failed refresh: which step, and why (quality/failures/latest.txt).")
    def report_failed_refresh(context: dg.RunFailureSensorContext) -> None:
        steps = context.get_step_failure_events()
        path = write_failure_report(settings.quality, context.dagster_run.run_id,
                                    "\n".join([context.failure_event.message or "", *(step_failure_reason(event) for event in steps)]).strip(),
                                    [event.step_key or "" for event in steps])
        context.log.error(f"refresh {context.dagster_run.run_id} failed; report: {path}")

    return report_failed_refresh

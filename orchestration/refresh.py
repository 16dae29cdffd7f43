"""`crm-kpis refresh`: the Dagster `refresh` job run in-process (the same job the schedule runs), with
progress per step and a summary at the end."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from orchestration import settings
from orchestration.dbt_build import PROJECT_DIR, run_dbt
from orchestration.progress import on_this_terminal, say
from orchestration.run_lock import warehouse_lock

DBT_INPUTS = ("models", "seeds", "macros", "dbt_project.yml", "profiles.yml")


class RefreshFailed(Exception):
    pass


def parse_environment() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in settings.DBT_PARSE_ENVIRONMENT}


def manifest_path() -> Path:
    return settings.dbt_artifacts_dir() / "manifest.json"


def manifest_environment_path() -> Path:
    return settings.dbt_artifacts_dir() / "manifest_environment.json"


def manifest_is_current() -> bool:
    manifest, environment = manifest_path(), manifest_environment_path()
    if not manifest.exists() or not environment.exists():
        return False
    if json.loads(environment.read_text()) != parse_environment():
        return False
    built = manifest.stat().st_mtime
    for name in DBT_INPUTS:
        path = PROJECT_DIR / name
        files = [path] if path.is_file() else list(path.rglob("*"))
        if any(file.stat().st_mtime > built for file in files if file.is_file()):
            return False
    return True


def ensure_manifest() -> None:
    """Dagster reads dbt's manifest when the definitions load; parse the project when it is missing or stale."""
    if manifest_is_current():
        return
    say("parsing the dbt project (dbt parse) for the Dagster definitions")
    result = run_dbt(["parse", "--quiet"], settings.warehouse_path(), quiet=True, target_dir=settings.dbt_artifacts_dir())
    if result.returncode != 0:
        raise RefreshFailed(f"dbt parse failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    manifest_environment_path().write_text(json.dumps(parse_environment()))


@dataclass
class RefreshSummary:
    run_id: str
    success: bool
    published: bool
    failed_steps: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)
    data_docs: str | None = None
    serving_file: Path | None = None
    row_counts: dict[str, int] = field(default_factory=dict)


def run_refresh() -> RefreshSummary:
    """The refresh job in this process, holding the warehouse's lock throughout (WarehouseBusy when
    another refresh holds it)."""
    with warehouse_lock(settings.warehouse_path(), "crm-kpis refresh"):
        return _run_refresh_job()


def _run_refresh_job() -> RefreshSummary:
    ensure_manifest()
    import dagster as dg

    from orchestration.definitions import GATE_CHECKS, PUBLISHED_MARTS_KEY, defs
    from orchestration.quality_gate import GateReport, report_folder

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("refresh")
    log_path = settings.home_dir() / "logs" / f"refresh-{datetime.now():%Y%m%dT%H%M%S}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    say(f"refresh job starting; dbt's own output goes to {log_path}")
    # dagster-dbt echoes every dbt log line to stdout, and Dagster logs failed steps with their stack
    # frames: both go to the log; the terminal gets the progress lines and the summary
    with open(log_path, "w") as log, on_this_terminal(), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        result = job.execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    failed = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    skipped = [event.step_key for event in result.all_events if event.event_type_value == "STEP_SKIPPED"]
    published = any(event.asset_key == PUBLISHED_MARTS_KEY for event in result.get_asset_materialization_events())
    summary = RefreshSummary(run_id=result.run_id, success=result.success, published=published,
                             failed_steps=[step for step in failed if step], skipped_steps=[step for step in skipped if step])
    report = GateReport.load(report_folder(), result.run_id)
    if report is not None:
        summary.data_docs = report.data_docs
        summary.failed_checks = [outcome.describe() for outcome in report.failed]
        summary.warnings = [outcome.describe() for outcome in report.warnings]
    # the gate's own checks are described by its report above; every other check is a dbt test
    gate_check_names = {spec.name for spec in GATE_CHECKS}
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.check_name not in gate_check_names:
            summary.failed_checks.append(f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()} (dbt test)")
    if published:
        from orchestration.publish import last_publish, serving_file

        summary.serving_file = serving_file(settings.serving_dir())
        summary.row_counts = (last_publish(summary.serving_file) or {}).get("row_counts", {})
    return summary


def print_summary(summary: RefreshSummary) -> None:
    print(f"\nRefresh {summary.run_id}: {'published' if summary.published else 'NOT published'}")
    if summary.published:
        print(f"  serving file   {summary.serving_file} ({len(summary.row_counts)} marts, "
              f"{sum(summary.row_counts.values()):,} rows); Parquet in {summary.serving_file.parent / 'parquet' / 'current'}")
    for step in summary.failed_steps:
        print(f"  failed step    {step}")
    for check in summary.failed_checks:
        print(f"  failed check   {check}")
    for warning in summary.warnings:
        print(f"  warning        {warning}" + (" (this publish replaced it)" if summary.published else ""))
    if not summary.published:
        print("  The previous serving file, if any, is unchanged.")
    if summary.data_docs:
        print(f"  Data Docs      {summary.data_docs}")

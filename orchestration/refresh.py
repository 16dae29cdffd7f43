"""`crm-kpis refresh`: the Dagster `refresh` job run in-process (the same job the schedule runs), recorded
in the home's Dagster instance (so the UI shows it), with progress per step and a summary at the end."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from orchestration.progress import on_this_terminal, say
from orchestration.run_lock import warehouse_lock
from orchestration.settings import Settings


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


def prepare_manifest(settings: Settings) -> None:
    """dbt's manifest, which the definitions are built from, parsed for these settings (dbt's partial
    parsing makes it quick when nothing changed)."""
    from orchestration.defs.dbt import project

    say("parsing the dbt project (dbt parse)")
    project.prepare_manifest(settings)


def run_refresh(settings: Settings, full: bool = False) -> RefreshSummary:
    """The refresh job in this process, holding the warehouse's lock throughout (WarehouseBusy when
    another refresh holds it). `full`: every model rebuilt from all history (dbt build --full-refresh),
    for after an upgrade or a change of rules that incremental models would otherwise keep old rows of."""
    with warehouse_lock(settings.warehouse, "crm-kpis refresh"):
        prepare_manifest(settings)
        return _run_refresh_job(settings, full)


def _run_refresh_job(settings: Settings, full: bool) -> RefreshSummary:
    import dagster as dg

    from expectations.gate import GateReport
    from orchestration.dbt.outcomes import failed_nodes, read_outcomes, warned_nodes
    from orchestration.defs.automation import full_refresh_tags
    from orchestration.defs.dbt.assets import run_folder
    from orchestration.defs.definitions import build_definitions
    from orchestration.defs.publish import PUBLISHED_MARTS_KEY
    from orchestration.serving.publish import last_publish

    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    job = build_definitions(settings).resolve_job_def("refresh")
    log_path = settings.home / "logs" / f"refresh-{datetime.now():%Y%m%dT%H%M%S}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    say(f"refresh job starting; dbt's own output goes to {log_path}; the run is in the Dagster UI of {settings.dagster_home}")
    # dagster-dbt echoes every dbt log line to stdout, and Dagster logs failed steps with their stack
    # frames: both go to the log; the terminal gets the progress lines and the summary
    with open(log_path, "w") as log, on_this_terminal(), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, tags=full_refresh_tags(full),
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    failed = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    skipped = [event.step_key for event in result.all_events if event.event_type_value == "STEP_SKIPPED"]
    published = any(event.asset_key == PUBLISHED_MARTS_KEY for event in result.get_asset_materialization_events())
    summary = RefreshSummary(run_id=result.run_id, success=result.success, published=published,
                             failed_steps=[step for step in failed if step], skipped_steps=[step for step in skipped if step])
    report = GateReport.load(settings.gate_reports, result.run_id)
    if report is not None:
        summary.data_docs = report.data_docs
        summary.failed_checks = [outcome.describe() for outcome in report.failed]
        summary.warnings = [outcome.describe() for outcome in report.warnings]
    # the dbt build's failed and warned tests (and any model that failed), from its run folder
    outcomes = read_outcomes(run_folder(settings, result.run_id))
    summary.failed_checks += [outcome.describe() for outcome in failed_nodes(outcomes)]
    summary.warnings += [outcome.describe() for outcome in warned_nodes(outcomes)]
    if published:
        summary.serving_file = settings.serving_file
        summary.row_counts = (last_publish(summary.serving_file) or {}).get("row_counts", {})
    return summary


def print_summary(summary: RefreshSummary) -> None:
    print(f"\nRefresh {summary.run_id}: {'published' if summary.published else 'NOT published'}")
    if summary.published and summary.serving_file:
        print(f"  serving file   {summary.serving_file} ({len(summary.row_counts)} marts, "
              f"{sum(summary.row_counts.values()):,} rows); Parquet in {summary.serving_file.parent / 'parquet' / 'current'}")
    for step in summary.failed_steps:
        print(f"  failed step    {step}")
    for check in summary.failed_checks:
        print(f"  failed check   {check}")
    for warning in summary.warnings:
        print(f"  warning        {warning}" + (" (this publish replaced it)" if summary.published and "serving_file_intact" in warning else ""))
    if not summary.published:
        print("  The previous serving file, if any, is unchanged.")
    if summary.data_docs:
        print(f"  Data Docs      {summary.data_docs}")

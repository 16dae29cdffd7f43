"""The quality gate: Great Expectations suites (expectations/) validated on DataFrames read from a
read-only connection to the working warehouse, after dbt and before publishing.

GE 1.24's SQL datasource cannot read DuckDB, so every check validates a pandas DataFrame. A
validation that raised an exception is a failed check, never a pass. Data Docs are rebuilt on
every run under the quality folder."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from expectations import suites
from expectations.mart_rules import MART_RULES
from orchestration import settings
from orchestration.publish import last_publish, serving_file_changes
from orchestration.warehouse_connection import connect_warehouse

log = logging.getLogger(__name__)

CONSISTENCY_SQL = """
    with quota as (
        select user_id as owner_id, period_start, period_end, bookings from marts.fct_kpi_quota_attainment
    ),
    win as (
        select quota.owner_id, quota.period_start, sum(w.won_amount) as amount
        from quota join marts.fct_kpi_win_rate w
            on w.owner_id = quota.owner_id and w.period_month between quota.period_start and quota.period_end
        group by 1, 2
    ),
    size as (
        select quota.owner_id, quota.period_start, sum(s.won_amount) as amount
        from quota join marts.fct_kpi_average_deal_size s
            on s.owner_id = quota.owner_id and s.period_month between quota.period_start and quota.period_end
        group by 1, 2
    ),
    mrr_months as (
        select period_month, sum(opening_mrr) as opening, sum(mrr) as closing,
            sum(new_mrr + reactivation_mrr + expansion_mrr + contraction_mrr + churned_mrr + fx_mrr) as movements
        from marts.fct_kpi_recurring_revenue group by 1
    ),
    forecast_teams as (
        select period_grain, period_start, sum(actual_amount) as actual
        from marts.fct_kpi_forecast_accuracy where level = 'team' group by 1, 2
    )
    select 'quota bookings = win-rate won amount' as comparison,
        quota.owner_id || ' ' || cast(quota.period_start as varchar) as cell,
        cast(quota.bookings - coalesce(win.amount, 0) as double) as difference
    from quota left join win using (owner_id, period_start)
    union all
    select 'quota bookings = deal-size won amount', quota.owner_id || ' ' || cast(quota.period_start as varchar),
        cast(quota.bookings - coalesce(size.amount, 0) as double)
    from quota left join size using (owner_id, period_start)
    union all
    select 'MRR movements = month-over-month change', cast(period_month as varchar),
        cast(closing - opening - movements as double)
    from mrr_months
    union all
    select 'forecast company actual = sum of teams', c.period_grain || ' ' || cast(c.period_start as varchar),
        cast(c.actual_amount - t.actual as double)
    from marts.fct_kpi_forecast_accuracy c join forecast_teams t using (period_grain, period_start)
    where c.level = 'company'
"""

# per CRM source: one source that stopped syncing is stale even when another is current
FRESHNESS_SQL = """
    select source_system || ' opportunities.updated_at' as source, max(updated_at) as newest
    from intermediate.int_opportunities_unioned group by source_system
    union all
    select source_system || ' opportunity_history.changed_at', max(changed_at)
    from intermediate.int_opportunity_history_unioned group by source_system
"""


@dataclass
class CheckOutcome:
    """One Dagster asset check: which mart it belongs to, whether it passed, and why not."""

    check_name: str
    mart: str | None
    passed: bool
    failures: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    asset_key: tuple[str, ...] = ()
    # a non-blocking check is reported but does not stop the publish
    blocking: bool = True
    # what a failure means, in words, where the expectation's own description says too little
    note: str | None = None

    def describe(self) -> str:
        if self.note and not self.passed:
            return f"{self.check_name}: {self.note}"
        if self.error:
            return f"{self.check_name} on {self.target}: could not run: {self.error}"
        parts = [f"{failure['expectation']}({failure.get('column') or failure.get('columns') or ''}): "
                 f"{failure.get('unexpected_count')} rows, e.g. {failure.get('sample')}" for failure in self.failures]
        return f"{self.check_name} on {self.target}: " + ("; ".join(parts) or "passed")

    @property
    def target(self) -> str:
        return ".".join(self.asset_key) if self.asset_key else (self.mart or "")


@dataclass
class GateReport:
    run_id: str
    checked_at: str
    outcomes: list[CheckOutcome]
    data_docs: str | None

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(outcome.passed for outcome in self.outcomes if outcome.blocking)

    @property
    def failed(self) -> list[CheckOutcome]:
        """Failed blocking checks: each of them stops the publish."""
        return [outcome for outcome in self.outcomes if not outcome.passed and outcome.blocking]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed and not outcome.blocking]

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.run_id}.json"
        path.write_text(json.dumps(asdict(self), indent=2, default=str))
        return path

    @classmethod
    def load(cls, folder: Path, run_id: str) -> "GateReport | None":
        path = folder / f"{run_id}.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        outcomes = [CheckOutcome(**{**outcome, "asset_key": tuple(outcome["asset_key"])}) for outcome in raw["outcomes"]]
        return cls(run_id=raw["run_id"], checked_at=raw["checked_at"], outcomes=outcomes, data_docs=raw["data_docs"])


def report_folder() -> Path:
    return settings.quality_dir() / "gate_reports"


def _raised(exception_info: Any) -> str | None:
    """GE nests exception info per metric; any raised exception makes the expectation an error."""
    if isinstance(exception_info, dict):
        if exception_info.get("raised_exception"):
            return str(exception_info.get("exception_message") or "exception")
        for value in exception_info.values():
            message = _raised(value)
            if message:
                return message
    return None


def _json_safe(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict, str)):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


class GreatExpectationsRunner:
    """A file-backed GE context under the quality folder; suites and checkpoints are (re)defined from code."""

    def __init__(self, root: Path) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        root.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(root))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.variables.save()
        self.datasource = self.context.data_sources.add_or_update_pandas("warehouse")

    def validate(self, suite: Any, frame: pd.DataFrame, index_columns: list[str]) -> tuple[bool, list[dict], str | None]:
        """(passed, failures, error) of one suite on one DataFrame."""
        gx = self.gx
        name = suite.name
        asset = next((asset for asset in self.datasource.assets if asset.name == name), None) \
            or self.datasource.add_dataframe_asset(name)
        batch = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_dataframe("whole")
        suite = self.context.suites.add_or_update(suite)
        validation = self.context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
        if index_columns:
            result_format["unexpected_index_column_names"] = index_columns
        checkpoint = self.context.checkpoints.add_or_update(
            gx.Checkpoint(name=name, validation_definitions=[validation], result_format=result_format))
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        failures, error = [], None
        for validation_result in result.run_results.values():
            for expectation in validation_result.results:
                raised = _raised(expectation.exception_info)
                if raised:
                    error = f"{expectation.expectation_config.type}: {raised}"
                if expectation.success and not raised:
                    continue
                kwargs = expectation.expectation_config.kwargs
                details = expectation.result or {}
                sample = details.get("partial_unexpected_index_list") or details.get("partial_unexpected_list")
                failures.append(_json_safe({
                    "expectation": expectation.expectation_config.type,
                    "column": kwargs.get("column"),
                    "columns": kwargs.get("column_list"),
                    "unexpected_count": details.get("unexpected_count"),
                    "sample": (sample or [])[:5],
                    "error": raised,
                }))
        return result.success and error is None, failures, error

    def build_docs(self, keep_runs: int = 14) -> str | None:
        """Data Docs over the last `keep_runs` validations per suite (older results are pruned, or the
        site would grow, and take longer to render, every night)."""
        validations = Path(self.context.root_directory) / "uncommitted" / "validations"
        for suite_folder in (validations.iterdir() if validations.exists() else []):
            results = sorted(suite_folder.rglob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
            for old in results[keep_runs:]:
                old.unlink(missing_ok=True)
        sites = self.context.build_data_docs()
        return next(iter(sites.values()), None)


def _as_of_end(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), datetime.min.time())


def _today_in_business_timezone() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(settings.business_timezone())).date()


def _change_frames(connection, serving_file: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = ["measure", "published", "now", "ratio"]
    previous = last_publish(serving_file)
    if previous is None:
        empty = pd.DataFrame({"measure": pd.Series(dtype=str), "published": pd.Series(dtype=float),
                              "now": pd.Series(dtype=float), "ratio": pd.Series(dtype=float)})
        return empty, empty.copy()
    rows = []
    for mart, published in previous["row_counts"].items():
        if mart not in MART_RULES:
            continue
        now = connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]
        rows.append((mart, float(published), float(now), (now / published) if published else (1.0 if now == 0 else math.inf)))
    bookings_now = float(connection.execute("select coalesce(sum(won_amount), 0) from marts.fct_kpi_win_rate").fetchone()[0])
    bookings_published = float(previous["total_bookings"] or 0)
    ratio = bookings_now / bookings_published if bookings_published else (1.0 if bookings_now == 0 else math.inf)
    return (pd.DataFrame(rows, columns=columns),
            pd.DataFrame([("total bookings", bookings_published, bookings_now, ratio)], columns=columns))


def run_quality_gate(warehouse: Path, serving_file: Path, run_id: str, quality_root: Path | None = None) -> GateReport:
    """Validate every suite; never raises for a data problem, reports it (an exception in a suite is a failure)."""
    quality_root = quality_root or settings.quality_dir()
    runner = GreatExpectationsRunner(quality_root)
    outcomes: list[CheckOutcome] = []
    as_of = date.fromisoformat(settings.as_of_date_override()) if settings.as_of_date_override() else _today_in_business_timezone()

    def record(check_name: str, mart: str | None, asset_key: tuple[str, ...], suite_factory, frame_factory, index_columns: list[str],
               blocking: bool = True) -> None:
        try:
            passed, failures, error = runner.validate(suite_factory(), frame_factory(), index_columns)
            outcomes.append(CheckOutcome(check_name, mart, passed, failures, error, asset_key, blocking))
        except Exception as exception:  # a check that cannot run fails the gate; it never passes
            log.exception("quality check %s failed to run", check_name)
            outcomes.append(CheckOutcome(check_name, mart, False, [], f"{type(exception).__name__}: {exception}", asset_key, blocking))

    with connect_warehouse(warehouse, read_only=True) as connection:
        key_values = {
            "dim_users.user_id": [row[0] for row in connection.execute("select user_id from marts.dim_users").fetchall()],
            # dates compare as ISO strings: GE stores value sets as JSON
            "dim_date.month_start": [row[0] for row in connection.execute(
                "select distinct strftime(month_start, '%Y-%m-%d') from marts.dim_date order by 1").fetchall()],
            "opportunity_stages.stage": [row[0] for row in connection.execute("select stage from reference.opportunity_stages").fetchall()],
        }
        def mart_frame(mart: str) -> pd.DataFrame:
            frame = connection.execute(f"select * from marts.{mart}").df()
            for column, reference in MART_RULES[mart].keys.items():
                if reference.startswith("dim_date."):
                    frame[column] = frame[column].dt.strftime("%Y-%m-%d")
            return frame

        for mart, rules in MART_RULES.items():
            record("great_expectations", mart, ("marts", mart), lambda mart=mart: suites.mart_suite(mart, key_values),
                   lambda mart=mart: mart_frame(mart), list(rules.grain))
        record("cross_kpi_consistency", "fct_kpi_quota_attainment", ("marts", "fct_kpi_quota_attainment"),
               suites.consistency_suite, lambda: connection.execute(CONSISTENCY_SQL).df(), ["comparison", "cell"])
        row_changes, bookings_change = _change_frames(connection, serving_file)
        row_bound = settings.gate_max_row_change()
        bookings_bound = settings.gate_max_bookings_change()
        record("row_counts_vs_published", "fct_kpi_win_rate", ("marts", "fct_kpi_win_rate"),
               lambda: suites.change_suite("row_counts_vs_published", 1 - row_bound, 1 / (1 - row_bound)),
               lambda: row_changes, ["measure"])
        record("bookings_vs_published", "fct_kpi_win_rate", ("marts", "fct_kpi_win_rate"),
               lambda: suites.change_suite("bookings_vs_published", 1 - bookings_bound, 1 / (1 - bookings_bound)),
               lambda: bookings_change, ["measure"])

        def freshness_frame() -> pd.DataFrame:
            frame = connection.execute(FRESHNESS_SQL).df()
            frame["age_days"] = [(_as_of_end(as_of) - newest.to_pydatetime()).total_seconds() / 86400 if pd.notna(newest) else None
                                 for newest in frame["newest"]]
            return frame

        record("freshness", "fct_kpi_pipeline_value", ("marts", "fct_kpi_pipeline_value"), lambda: suites.freshness_suite(settings.gate_max_data_age_days()),
               freshness_frame, ["source"])

        served = serving_file_changes(serving_file) or []
        record("serving_file_intact", "fct_kpi_win_rate", ("marts", "fct_kpi_win_rate"), suites.intact_suite,
               lambda: pd.DataFrame(served, columns=["mart", "published", "now", "intact", "publish_id"]).astype({"intact": bool}),
               ["mart"], blocking=False)
        changed = [change for change in served if not change["intact"]]
        if changed:
            outcomes[-1].note = (f"the serving file was changed after publish {changed[0]['publish_id']}: "
                                 + ", ".join(f"marts.{change['mart']} (rows:checksum {change['published']} -> {change['now']})"
                                             for change in changed))
    try:
        docs = runner.build_docs()
    except Exception as exception:  # Data Docs are a report, not a check: say so, keep the verdict
        log.warning("Data Docs were not built: %s", exception)
        docs = None
    return GateReport(run_id=run_id, checked_at=datetime.now().isoformat(timespec="seconds"), outcomes=outcomes, data_docs=docs)

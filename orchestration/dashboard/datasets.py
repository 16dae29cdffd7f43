"""What the dashboard reads from the published marts: each dataset is the additive parts of one mart,
summed to the grain the dashboard filters by (month, owner, segment, ...). The page sums these parts
again for the selected filters and divides only then, so every figure it shows equals the same
roll-up in SQL over the marts; no ratio is ever averaged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Dataset:
    columns: list[str]
    rows: list[list[Any]]


def _month(column: str) -> str:
    return f"strftime({column}, '%Y-%m-%d')"


DATASET_SQL: dict[str, str] = {
    "users": "select user_id, coalesce(full_name, user_id), coalesce(team, 'unknown') from marts.dim_users order by 1",
    "win_rate": f"""select {_month('period_month')}, owner_id, segment, sum(won_count), sum(lost_count), sum(won_amount),
        sum(lost_amount) from marts.fct_kpi_win_rate group by all order by all""",
    "sales_cycle": f"""select {_month('period_month')}, owner_id, segment, sum(won_count), sum(won_cycle_days_sum)
        from marts.fct_kpi_sales_cycle group by all order by all""",
    "time_in_stage": f"""select {_month('period_month')}, owner_id, stage, min(stage_order), sum(visit_count), sum(days_sum)
        from marts.fct_kpi_time_in_stage group by all order by all""",
    "lead_conversion": f"""select {_month('period_month')}, owner_id, sum(lead_count), sum(converted_count)
        from marts.fct_kpi_lead_conversion group by all order by all""",
    "lead_to_customer": f"""select {_month('period_month')}, lead_source, sum(lead_count), sum(customer_count)
        from marts.fct_kpi_lead_to_customer group by all order by all""",
    "funnel": f"""select {_month('period_month')}, owner_id, stage, min(stage_order), sum(cohort_count), sum(reached_count),
        sum(won_count) from marts.fct_kpi_funnel_conversion group by all order by all""",
    "deal_size": f"""select {_month('period_month')}, owner_id, segment, sum(won_count), sum(won_amount)
        from marts.fct_kpi_average_deal_size group by all order by all""",
    "activity": f"""select {_month('period_start')}, owner_id, sum(activity_count), sum(call_count), sum(email_count),
        sum(meeting_count), sum(other_count) from marts.fct_kpi_activity_level where period_grain = 'month'
        group by all order by all""",
    "pipeline_value": f"""select {_month('snapshot_date')}, {_month('period_month')}, owner_id, stage, min(stage_order),
        sum(open_count), sum(open_amount), sum(weighted_amount) from marts.fct_kpi_pipeline_value group by all order by all""",
    "pipeline_created": f"""select {_month('period_month')}, owner_id, sum(created_count), sum(created_amount)
        from marts.fct_kpi_pipeline_created group by all order by all""",
    "forecast_accuracy": f"""select {_month('period_start')}, team, sum(pipeline_forecast), sum(submitted_forecast),
        sum(actual_amount) from marts.fct_kpi_forecast_accuracy where level = 'team' and period_grain = 'month'
        group by all order by all""",
    "recurring_revenue": f"""select {_month('period_month')}, segment, sum(mrr), sum(arr)
        from marts.fct_kpi_recurring_revenue group by all order by all""",
    "retention": f"""select {_month('period_start')}, segment, sum(customers_start), sum(customers_end), sum(new_customers)
        from marts.fct_kpi_customer_retention where period_grain = 'month' group by all order by all""",
    "quota": f"""select {_month('period_start')}, user_id, sum(bookings), sum(quota_amount), sum(is_attained)
        from marts.fct_kpi_quota_attainment group by all order by all""",
    "cac": f"""select {_month('period_start')}, sum(acquisition_spend), sum(new_customers)
        from marts.fct_kpi_customer_acquisition_cost where scope = 'company' and period_grain = 'month'
        group by all order by all""",
    "velocity": f"""select {_month('snapshot_date')}, owner_id, sum(open_count), sum(won_count_90d), sum(lost_count_90d),
        sum(won_amount_90d), sum(won_cycle_days_sum_90d), sum(won_cycle_count_90d)
        from marts.fct_kpi_pipeline_velocity group by all order by all""",
    "rep_intensity": f"""select {_month('period_month')}, owner_id, intensity_bucket, intensity_bucket_order, days_in_period,
        activity_count, won_count, lost_count, won_cycle_days_sum, won_cycle_count
        from marts.fct_insight_rep_activity_intensity order by all""",
    "deal_intensity": f"""select {_month('period_month')}, owner_id, segment, intensity_bucket, intensity_bucket_order,
        closed_count, won_count, activity_count, won_cycle_days_sum, won_cycle_count
        from marts.fct_insight_deal_activity_intensity order by all""",
    "stage_probability": """select stage, stage_order, cut, cut_value, reached_count, won_count, stage_default_probability,
        calibrated_probability from marts.fct_insight_stage_win_probability where is_as_of_date order by all""",
    "backtest": f"""select period_grain, {_month('period_start')}, owner_id, default_forecast, calibrated_forecast,
        actual_amount from marts.fct_insight_forecast_backtest order by all""",
    "calibrated_pipeline": f"""select {_month('snapshot_date')}, owner_id, segment, stage, min(stage_order), sum(open_count),
        sum(open_amount), sum(weighted_amount), sum(calibrated_weighted_amount)
        from marts.fct_insight_calibrated_pipeline
        where snapshot_date = (select max(snapshot_date) from marts.fct_insight_calibrated_pipeline)
        group by all order by all""",
    "stalled": f"""select opportunity_id, coalesce(opportunity_name, opportunity_id), owner_id, segment, stage, stage_order,
        days_in_stage, benchmark_days, days_over_benchmark, is_stalled, days_past_expected_close, amount,
        {_month('snapshot_date')} from marts.fct_insight_stalled_deals order by all""",
    "bundle": f"""select {_month('period_month')}, owner_id, segment, bundle_type, closed_count, won_count, won_amount,
        won_product_count from marts.fct_insight_bundle_deal_size order by all""",
    "cadence": f"""select {_month('period_start')}, owner_id, segment, cadence, cadence_order, customers_start,
        retained_customers, start_mrr, start_customers_end_mrr from marts.fct_insight_retention_by_cadence order by all""",
    "movers": f"""select {_month('period_start')}, owner_id, segment, dimension, dimension_value, sum(won_count),
        sum(lost_count), sum(previous_won_count), sum(previous_lost_count) from marts.fct_insight_win_rate_movers
        where period_grain = 'quarter' group by all order by all""",
    "lead_source": f"""select {_month('period_month')}, lead_source, owner_id, lead_count, converted_count, customer_count
        from marts.fct_insight_lead_source_conversion order by all""",
}

# the column names the page addresses rows by, in the order of each query's select list
DATASET_COLUMNS: dict[str, list[str]] = {
    "users": ["user_id", "name", "team"],
    "win_rate": ["month", "owner", "segment", "won", "lost", "won_amount", "lost_amount"],
    "sales_cycle": ["month", "owner", "segment", "won", "cycle_days"],
    "time_in_stage": ["month", "owner", "stage", "stage_order", "visits", "days"],
    "lead_conversion": ["month", "owner", "leads", "converted"],
    "lead_to_customer": ["month", "source", "leads", "customers"],
    "funnel": ["month", "owner", "stage", "stage_order", "cohort", "reached", "won"],
    "deal_size": ["month", "owner", "segment", "won", "won_amount"],
    "activity": ["month", "owner", "activities", "calls", "emails", "meetings", "other"],
    "pipeline_value": ["snapshot", "month", "owner", "stage", "stage_order", "open", "amount", "weighted"],
    "pipeline_created": ["month", "owner", "created", "amount"],
    "forecast_accuracy": ["month", "team", "forecast", "submitted", "actual"],
    "recurring_revenue": ["month", "segment", "mrr", "arr"],
    "retention": ["month", "segment", "start", "end", "new"],
    "quota": ["month", "owner", "bookings", "quota", "attained"],
    "cac": ["month", "spend", "new_customers"],
    "velocity": ["snapshot", "owner", "open", "won", "lost", "won_amount", "cycle_days", "cycle_count"],
    "rep_intensity": ["month", "owner", "bucket", "bucket_order", "days", "activities", "won", "lost", "cycle_days", "cycle_count"],
    "deal_intensity": ["month", "owner", "segment", "bucket", "bucket_order", "closed", "won", "activities", "cycle_days",
                       "cycle_count"],
    "stage_probability": ["stage", "stage_order", "cut", "cut_value", "reached", "won", "default", "calibrated"],
    "backtest": ["grain", "month", "owner", "default", "calibrated", "actual"],
    "calibrated_pipeline": ["snapshot", "owner", "segment", "stage", "stage_order", "open", "amount", "weighted", "calibrated"],
    "stalled": ["opportunity_id", "name", "owner", "segment", "stage", "stage_order", "days_in_stage", "benchmark_days",
                "days_over", "is_stalled", "days_late", "amount", "snapshot"],
    "bundle": ["month", "owner", "segment", "bundle", "closed", "won", "won_amount", "products"],
    "cadence": ["month", "owner", "segment", "cadence", "cadence_order", "customers", "retained", "start_mrr", "end_mrr"],
    "movers": ["month", "owner", "segment", "dimension", "value", "won", "lost", "previous_won", "previous_lost"],
    "lead_source": ["month", "source", "owner", "leads", "converted", "customers"],
}


def _plain(value: Any) -> Any:
    """JSON-safe: exact decimals become floats (the page only adds and divides them), dates ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def read_datasets(connection: duckdb.DuckDBPyConnection) -> dict[str, Dataset]:
    datasets = {}
    for name, sql in DATASET_SQL.items():
        rows = connection.execute(sql).fetchall()
        datasets[name] = Dataset(DATASET_COLUMNS[name], [[_plain(value) for value in row] for row in rows])
    return datasets


def read_publish_info(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """When and by which run the marts were published (none for a warehouse that was never published),
    the build's as-of date and the reporting currency."""
    has_log = connection.execute("""select count(*) from information_schema.tables
        where table_schema = 'meta' and table_name = 'publish_log'""").fetchone()[0] > 0
    published = connection.execute(
        "select strftime(published_at, '%Y-%m-%d %H:%M UTC'), run_id from meta.publish_log order by published_at desc limit 1"
    ).fetchone() if has_log else None
    as_of, currency = connection.execute("""select strftime(max(snapshot_date), '%Y-%m-%d'),
        (select max(reporting_currency) from marts.fct_kpi_win_rate) from marts.fct_kpi_pipeline_value""").fetchone()
    return {"published_at": published[0] if published else None, "run_id": published[1] if published else None,
            "as_of": as_of, "currency": currency or ""}


def open_serving_file(path: Path) -> duckdb.DuckDBPyConnection:
    """Read-only, like every reader of the serving file: it never blocks a publish."""
    if not path.exists():
        raise FileNotFoundError(f"no serving file at {path}: run `crm-kpis refresh` (or `make demo`) first")
    return duckdb.connect(str(path), read_only=True)

"""What must hold of each published mart: its grain, the ratio columns in [0, 1], the money and count
columns that cannot be negative, and the keys that must exist in a dimension.

This is a second line of defence next to the dbt tests: it runs on the finished marts, after dbt,
just before publishing, and a failure keeps the previous serving file in place."""

from __future__ import annotations

from dataclasses import dataclass, field

OWNER = {"owner_id": "dim_users.user_id"}
MONTH = {"period_month": "dim_date.month_start"}  # a period_month is a first day of a month in the calendar


@dataclass(frozen=True)
class MartRules:
    grain: tuple[str, ...]
    ratios: tuple[str, ...] = ()
    non_negative: tuple[str, ...] = ()
    keys: dict[str, str] = field(default_factory=dict)


MART_RULES: dict[str, MartRules] = {
    "dim_users": MartRules(grain=("user_id",)),
    "dim_accounts": MartRules(grain=("account_id",)),
    "dim_products": MartRules(grain=("product_id",)),
    "dim_date": MartRules(grain=("date_day",)),
    "fct_data_quality_issues": MartRules(grain=("table_name", "issue_type"), non_negative=("row_count",)),
    "fct_kpi_win_rate": MartRules(
        grain=("period_month", "owner_id", "segment", "industry", "product_line", "lead_source"),
        ratios=("win_rate", "value_win_rate"),
        non_negative=("won_count", "lost_count", "won_amount", "lost_amount"),
        keys={**OWNER, **MONTH}),
    "fct_kpi_sales_cycle": MartRules(
        grain=("period_month", "owner_id", "segment"),
        non_negative=("won_count", "won_cycle_days_sum", "lost_count", "lost_cycle_days_sum"),
        keys={**OWNER, **MONTH}),
    "fct_kpi_time_in_stage": MartRules(
        grain=("period_month", "owner_id", "stage"),
        non_negative=("visit_count", "skipped_count", "regression_count", "days_sum"),
        keys={**OWNER, **MONTH, "stage": "opportunity_stages.stage"}),
    "fct_kpi_lead_conversion": MartRules(
        grain=("period_month", "lead_source", "owner_id"),
        ratios=("conversion_rate", "conversion_rate_30_days", "conversion_rate_90_days"),
        non_negative=("lead_count", "converted_count"),
        keys=MONTH),
    "fct_kpi_lead_to_customer": MartRules(
        grain=("period_month", "lead_source"),
        ratios=("lead_to_customer_rate",),
        non_negative=("lead_count", "customer_count"),
        keys=MONTH),
    "fct_kpi_funnel_conversion": MartRules(
        grain=("period_month", "owner_id", "stage"),
        ratios=("conversion_to_next", "conversion_to_won"),
        non_negative=("cohort_count", "reached_count", "won_count"),
        keys={**OWNER, **MONTH, "stage": "opportunity_stages.stage"}),
    "fct_kpi_average_deal_size": MartRules(
        grain=("period_month", "owner_id", "segment", "industry", "product_line"),
        non_negative=("won_count", "won_amount", "average_deal_size", "median_deal_size", "largest_deal"),
        keys={**OWNER, **MONTH}),
    "fct_kpi_activity_level": MartRules(
        grain=("period_grain", "period_start", "owner_id"),
        non_negative=("activity_count", "call_count", "email_count", "meeting_count", "other_count"),
        keys=OWNER),
    "fct_kpi_pipeline_value": MartRules(
        grain=("snapshot_date", "owner_id", "stage", "expected_close_quarter"),
        non_negative=("open_count", "open_amount", "weighted_amount"),
        keys={**OWNER, "stage": "opportunity_stages.stage"}),
    "fct_kpi_pipeline_created": MartRules(
        grain=("period_month", "owner_id", "product_line"),
        non_negative=("created_count", "created_amount"),
        keys={**OWNER, **MONTH}),
    "fct_kpi_forecast_accuracy": MartRules(
        grain=("level", "period_grain", "period_start", "team"),
        non_negative=("actual_amount", "pipeline_forecast")),
    "fct_kpi_recurring_revenue": MartRules(
        grain=("period_month", "segment"),
        non_negative=("opening_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr", "mrr", "arr", "paying_accounts"),
        keys=MONTH),
    "fct_kpi_customer_retention": MartRules(
        grain=("period_grain", "period_start", "segment"),
        ratios=("retention_rate", "logo_churn_rate"),
        non_negative=("customers_start", "customers_end", "new_customers", "churned_customers", "start_mrr")),
    "fct_kpi_quota_attainment": MartRules(
        grain=("user_id", "period_start"),
        non_negative=("quota_amount", "bookings", "won_count"),
        keys={"user_id": "dim_users.user_id"}),
    "fct_kpi_customer_acquisition_cost": MartRules(
        grain=("scope", "period_grain", "period_start", "channel"),
        non_negative=("marketing_spend", "sales_spend", "acquisition_spend", "new_customers")),
    "fct_kpi_pipeline_velocity": MartRules(
        grain=("snapshot_date", "owner_id"),
        ratios=("win_rate_90d",),
        non_negative=("open_count", "won_count_90d", "lost_count_90d", "won_amount_90d", "pipeline_velocity_per_day"),
        keys=OWNER),
    # insight marts (models/marts/insights): the seed articles' questions
    "fct_insight_rep_activity_intensity": MartRules(
        grain=("period_month", "owner_id"),
        ratios=("win_rate", "win_rate_ci_low", "win_rate_ci_high"),
        non_negative=("days_in_period", "activity_count", "activities_per_week", "won_count", "lost_count", "won_amount",
                      "won_cycle_days_sum", "won_cycle_count"),
        keys={**OWNER, **MONTH}),
    "fct_insight_deal_activity_intensity": MartRules(
        grain=("period_month", "owner_id", "segment", "intensity_bucket"),
        ratios=("win_rate", "win_rate_ci_low", "win_rate_ci_high"),
        non_negative=("closed_count", "won_count", "lost_count", "activity_count", "won_amount", "won_cycle_days_sum"),
        keys={**OWNER, **MONTH}),
    "fct_insight_stage_win_probability": MartRules(
        grain=("snapshot_date", "stage", "cut", "cut_value"),
        ratios=("empirical_probability", "empirical_probability_ci_low", "empirical_probability_ci_high",
                "stage_default_probability", "calibrated_probability"),
        non_negative=("reached_count", "won_count", "lost_count"),
        keys={"stage": "opportunity_stages.stage"}),
    "fct_insight_calibrated_pipeline": MartRules(
        grain=("snapshot_date", "owner_id", "segment", "stage", "expected_close_quarter"),
        ratios=("calibrated_probability",),
        non_negative=("open_count", "open_amount", "weighted_amount", "calibrated_weighted_amount"),
        keys={**OWNER, "stage": "opportunity_stages.stage"}),
    "fct_insight_forecast_backtest": MartRules(
        grain=("period_grain", "period_start", "owner_id"),
        non_negative=("default_forecast", "calibrated_forecast", "actual_amount"),
        keys=OWNER),
    "fct_insight_stalled_deals": MartRules(
        grain=("opportunity_id",),
        non_negative=("days_in_stage", "benchmark_days", "benchmark_visit_count", "days_past_expected_close", "amount",
                      "weighted_amount"),
        keys={**OWNER, "stage": "opportunity_stages.stage"}),
    "fct_insight_bundle_deal_size": MartRules(
        grain=("period_month", "owner_id", "segment", "bundle_type"),
        ratios=("win_rate", "win_rate_ci_low", "win_rate_ci_high"),
        non_negative=("closed_count", "won_count", "lost_count", "won_amount", "lost_amount", "won_product_count"),
        keys={**OWNER, **MONTH}),
    "fct_insight_retention_by_cadence": MartRules(
        grain=("period_start", "owner_id", "segment", "cadence"),
        ratios=("retention_rate", "retention_rate_ci_low", "retention_rate_ci_high", "logo_churn_rate",
                "gross_revenue_retention"),
        non_negative=("customers_start", "retained_customers", "churned_customers", "touch_count", "start_mrr")),
    "fct_insight_win_rate_movers": MartRules(
        grain=("period_grain", "period_start", "owner_id", "segment", "dimension", "dimension_value"),
        ratios=("win_rate", "previous_win_rate", "win_rate_ci_low", "win_rate_ci_high"),
        non_negative=("won_count", "lost_count", "previous_won_count", "previous_lost_count", "won_amount"),
        keys=OWNER),
    "fct_insight_lead_source_conversion": MartRules(
        grain=("period_month", "lead_source", "owner_id"),
        ratios=("conversion_rate", "conversion_rate_ci_low", "conversion_rate_ci_high", "lead_to_customer_rate"),
        non_negative=("lead_count", "converted_count", "customer_count"),
        keys=MONTH),
}

"""The demo's terminal summary of the headline KPIs, read from the serving file (the published marts)."""

from __future__ import annotations

from pathlib import Path

from orchestration.warehouse_connection import connect_warehouse

KPI_SUMMARY_SQL = """
    with window_start as (select max(period_month) - interval 11 month as since from marts.fct_kpi_win_rate),
    wins as (
        select sum(won_count) as won, sum(lost_count) as lost, sum(won_amount) as won_amount, sum(lost_amount) as lost_amount
        from marts.fct_kpi_win_rate where period_month >= (select since from window_start)
    ),
    cycle as (
        select sum(won_cycle_days_sum) / nullif(sum(won_count), 0) as won_cycle
        from marts.fct_kpi_sales_cycle where period_month >= (select since from window_start)
    ),
    leads as (
        select sum(converted_count) / nullif(sum(lead_count), 0) as lead_conversion
        from marts.fct_kpi_lead_conversion where period_month >= (select since from window_start) - interval 12 month
            and period_month < (select since from window_start)
    ),
    pipeline as (
        select sum(open_amount) as open_amount, sum(weighted_amount) as weighted_amount
        from marts.fct_kpi_pipeline_value where snapshot_date = (select max(snapshot_date) from marts.fct_kpi_pipeline_value)
    ),
    recurring as (
        select sum(arr) as arr from marts.fct_kpi_recurring_revenue
        where period_month = (select max(period_month) from marts.fct_kpi_recurring_revenue)
    ),
    retention as (
        select sum(start_customers_end_mrr) / nullif(sum(start_mrr), 0) as nrr,
            (sum(customers_end) - sum(new_customers)) / nullif(sum(customers_start), 0) as logo_retention
        from marts.fct_kpi_customer_retention where period_grain = 'year'
            and period_start = (select max(period_start) from marts.fct_kpi_customer_retention where period_grain = 'year')
    ),
    last_quarter as (
        select max(period_start) as quarter_start from marts.fct_kpi_quota_attainment where not is_current_period
    ),
    quota as (
        select sum(bookings) / nullif(sum(quota_amount), 0) as attainment, avg(is_attained) as share_at_quota
        from marts.fct_kpi_quota_attainment where period_start = (select quarter_start from last_quarter)
    ),
    acquisition as (
        select cac from marts.fct_kpi_customer_acquisition_cost
        where scope = 'company' and period_grain = 'quarter' and period_start = (select quarter_start from last_quarter)
    )
    select (select since from window_start), won, lost, won / nullif(won + lost, 0), won_amount / nullif(won_amount + lost_amount, 0),
        won_amount / nullif(won, 0), (select won_cycle from cycle), (select max(reporting_currency) from marts.fct_kpi_win_rate),
        (select lead_conversion from leads), (select open_amount from pipeline), (select weighted_amount from pipeline),
        (select arr from recurring), (select nrr from retention), (select logo_retention from retention),
        (select quarter_start from last_quarter), (select attainment from quota), (select share_at_quota from quota),
        (select cac from acquisition)
    from wins
"""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _amount(value: float | None, currency: str) -> str:
    return "n/a" if value is None else f"{value:,.0f} {currency}"


def print_kpi_summary(warehouse: Path) -> None:
    with connect_warehouse(warehouse, read_only=True) as connection:
        (since, won, lost, win_rate, value_win_rate, deal_size, cycle, currency, lead_conversion, open_amount, weighted_amount,
         arr, nrr, logo_retention, quarter, attainment, share_at_quota, cac) = connection.execute(KPI_SUMMARY_SQL).fetchone()
        issues = connection.execute("select table_name || '.' || issue_type, row_count from marts.fct_data_quality_issues "
                                    "where row_count > 0 order by 1").fetchall()
    print(f"\nKPIs for the 12 months from {since:%Y-%m} (marts schema):")
    print(f"  win rate                 {_percent(win_rate):>8}   ({won:,} won / {won + lost:,} closed)")
    print(f"  value win rate           {_percent(value_win_rate):>8}")
    print(f"  average deal size        {_amount(deal_size, currency)}")
    print(f"  sales cycle (won)        {cycle:8.1f} days")
    print(f"  lead-to-opportunity      {_percent(lead_conversion):>8}   (leads of the 12 months before)")
    print(f"  open pipeline now        {_amount(open_amount, currency)} (weighted {_amount(weighted_amount, currency)})")
    print(f"  ARR now                  {_amount(arr, currency)}")
    print(f"  net revenue retention    {_percent(nrr):>8}   (logo retention {_percent(logo_retention)}, last full year)")
    if quarter is not None:
        print(f"  quota attainment {quarter:%Y-%m}  {_percent(attainment):>8}   ({_percent(share_at_quota)} of reps at quota; CAC {_amount(cac, currency)})")
    print("  data-quality exclusions: " + (", ".join(f"{name} {count:,}" for name, count in issues) or "none"))

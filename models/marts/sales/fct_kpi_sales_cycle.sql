{#- KPI 2, sales cycle length: defined in models/docs/kpi_definitions.md (doc `fct_kpi_sales_cycle`), the one home
    of its definition (also rendered into docs/kpis.md).

    Incremental by period_month: a nightly build rebuilds the months its deals' changes touch (affected_months,
    macros/incremental.sql). -#}
{{ config(**crm_kpis.deal_month_fact_config('close_month')) }}
-- depends_on: {{ ref('int_opportunity_month_versions') }}

with closed as (
    select
        *,
        {{ dbt.datediff('created_date', 'close_date', 'day') }} as cycle_days
    from ({{ crm_kpis.deals_in_affected_months(ref('int_opportunities_enriched'), 'close_month') }}) as deals
    where is_kpi_eligible and is_closed and not is_close_before_creation
)

select
    close_month as period_month,
    owner_id,
    coalesce(segment, 'unknown') as segment,
    sum(case when is_won then 1 else 0 end) as won_count,
    sum(case when is_won then cycle_days else 0 end) as won_cycle_days_sum,
    {{ crm_kpis.safe_divide('sum(case when is_won then cycle_days else 0 end)', 'sum(case when is_won then 1 else 0 end)') }} as won_cycle_days_avg,
    {{ crm_kpis.to_ratio('percentile_cont(0.5) within group (order by case when is_won then cycle_days end)') }} as won_cycle_days_median,
    {{ crm_kpis.to_ratio('percentile_cont(0.9) within group (order by case when is_won then cycle_days end)') }} as won_cycle_days_p90,
    sum(case when is_won then 0 else 1 end) as lost_count,
    sum(case when is_won then 0 else cycle_days end) as lost_cycle_days_sum,
    {{ crm_kpis.safe_divide('sum(case when is_won then 0 else cycle_days end)', 'sum(case when is_won then 0 else 1 end)') }} as lost_cycle_days_avg,
    {{ crm_kpis.to_ratio('percentile_cont(0.5) within group (order by case when not is_won then cycle_days end)') }} as lost_cycle_days_median,
    {{ crm_kpis.to_ratio('percentile_cont(0.9) within group (order by case when not is_won then cycle_days end)') }} as lost_cycle_days_p90,
    {{ crm_kpis.built_at() }} as built_at
from closed
group by 1, 2, 3

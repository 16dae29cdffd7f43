{#- KPI 2, sales cycle length: defined in models/docs/kpi_definitions.md (doc `fct_kpi_sales_cycle`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with closed as (
    select
        *,
        {{ dbt.datediff('created_date', 'close_date', 'day') }} as cycle_days
    from {{ ref('int_opportunities_enriched') }}
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
    {{ crm_kpis.to_ratio('percentile_cont(0.9) within group (order by case when not is_won then cycle_days end)') }} as lost_cycle_days_p90
from closed
group by 1, 2, 3

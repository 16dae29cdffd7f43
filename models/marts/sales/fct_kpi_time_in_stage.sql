{#- KPI 3, time in stage: defined in models/docs/kpi_definitions.md (doc `fct_kpi_time_in_stage`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with visits as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunity_stage_visits') }}
    where not is_current
),

opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible
),

ended_visits as (
    select visits.*, opportunities.owner_id
    from visits
    inner join opportunities on visits.opportunity_id = opportunities.opportunity_id
)

select
    exited_month as period_month,
    owner_id,
    stage,
    min(stage_order) as stage_order,
    count(*) as visit_count,
    sum(case when is_skipped then 1 else 0 end) as skipped_count,
    sum(case when is_regression then 1 else 0 end) as regression_count,
    -- whole seconds add up exactly, fractional days would not
    {{ crm_kpis.safe_divide('sum(duration_seconds)', '86400') }} as days_sum,
    {{ crm_kpis.safe_divide('sum(duration_seconds)', '86400 * count(*)') }} as days_avg,
    {{ crm_kpis.to_ratio('percentile_cont(0.5) within group (order by duration_days)') }} as days_median
from ended_visits
group by exited_month, owner_id, stage

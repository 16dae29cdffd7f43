{#- KPI 6, funnel stage conversion: defined in models/docs/kpi_definitions.md (doc `fct_kpi_funnel_conversion`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with intervals as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunity_history_intervals') }}
),

opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible
),

stages as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('opportunity_stages') }}
),

path_stages as (
    select
        stage,
        stage_order,
        lead(stage) over (order by stage_order) as next_stage
    from stages
    where is_won or not is_closed
),

furthest_stage as (
    select
        intervals.opportunity_id,
        max(intervals.stage_order) as furthest_stage_order
    from intervals
    inner join path_stages on intervals.stage = path_stages.stage
    group by intervals.opportunity_id
),

cohort as (
    select
        opportunities.opportunity_id,
        opportunities.created_month,
        opportunities.owner_id,
        opportunities.is_won,
        coalesce(furthest_stage.furthest_stage_order, 0) as furthest_stage_order
    from opportunities
    left join furthest_stage on opportunities.opportunity_id = furthest_stage.opportunity_id
),

reached as (
    select
        cohort.created_month,
        cohort.owner_id,
        path_stages.stage,
        path_stages.stage_order,
        path_stages.next_stage,
        count(*) as cohort_count,
        sum(case when cohort.furthest_stage_order >= path_stages.stage_order then 1 else 0 end) as reached_count,
        sum(case when cohort.is_won then 1 else 0 end) as won_count
    from cohort
    cross join path_stages
    group by cohort.created_month, cohort.owner_id, path_stages.stage, path_stages.stage_order, path_stages.next_stage
),

with_next as (
    select
        this_stage.*,
        case when this_stage.next_stage is not null then coalesce(next_stage.reached_count, 0) end as next_reached_count
    from reached as this_stage
    left join reached as next_stage
        on this_stage.created_month = next_stage.created_month
        and this_stage.owner_id = next_stage.owner_id
        and this_stage.next_stage = next_stage.stage
)

select
    created_month as period_month,
    owner_id,
    stage,
    stage_order,
    next_stage,
    cohort_count,
    reached_count,
    next_reached_count,
    won_count,
    {{ crm_kpis.safe_divide('next_reached_count', 'reached_count') }} as conversion_to_next,
    {{ crm_kpis.safe_divide('won_count', 'reached_count') }} as conversion_to_won
from with_next

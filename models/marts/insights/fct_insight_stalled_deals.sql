{#- Insight 3. Open deals as of the build date (the as-of pipeline snapshot: open, forecast category
    not omitted) with the days they have stood in their current stage (business-time-zone dates)
    against that stage's benchmark: the var stall_benchmark_percentile (0.75) percentile, and the
    median, of the time won deals spent in it (real visits that ended in the trailing
    var insight_window_days). A deal is stalled when it has stood longer than the benchmark; without
    a won visit to learn from, the benchmark is NULL and the deal is not called stalled.
    Grain: opportunity_id. -#}
{% set window_days = var('insight_window_days') | int %}
{% set percentile = var('stall_benchmark_percentile') | float %}

with open_now as (
    select *,
        cast({{ dbt.dateadd('day', 1, 'snapshot_date') }} as {{ dbt.type_timestamp() }}) as snapshot_at_local
    from {{ ref('int_pipeline_snapshots') }}
    where snapshot_date = {{ crm_kpis.as_of_date() }}
),

visits as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunity_stage_visits') }}
    where not is_skipped
),

opportunities as (
    select opportunity_id, opportunity_name, account_id, is_won, is_kpi_eligible
    from {{ ref('int_opportunities_enriched') }}
),

won_visits as (
    select visits.stage, visits.duration_days
    from visits
    inner join opportunities on visits.opportunity_id = opportunities.opportunity_id
    where opportunities.is_kpi_eligible and opportunities.is_won
        and not visits.is_current
        and visits.exited_date <= {{ crm_kpis.as_of_date() }}
        and visits.exited_date > cast({{ dbt.dateadd('day', -window_days, crm_kpis.as_of_date()) }} as date)
),

benchmarks as (
    select
        stage,
        count(*) as benchmark_visit_count,
        {{ crm_kpis.percentile_cont(percentile, 'duration_days') }} as benchmark_days,
        {{ crm_kpis.percentile_cont(0.5, 'duration_days') }} as benchmark_median_days
    from won_visits
    group by stage
),

-- the visit a deal was in at the snapshot's moment (midnight ending the as-of day, business time zone)
current_visits as (
    select
        open_now.opportunity_id,
        {{ crm_kpis.to_business_date('visits.entered_at') }} as entered_stage_date
    from open_now
    inner join visits
        on open_now.opportunity_id = visits.opportunity_id
        and open_now.stage = visits.stage
        and {{ crm_kpis.to_business_time('visits.entered_at') }} < open_now.snapshot_at_local
        and (visits.exited_at is null or {{ crm_kpis.to_business_time('visits.exited_at') }} >= open_now.snapshot_at_local)
),

measured as (
    select
        open_now.*,
        opportunities.opportunity_name,
        opportunities.account_id,
        current_visits.entered_stage_date,
        {{ dbt.datediff('current_visits.entered_stage_date', 'open_now.snapshot_date', 'day') }} as days_in_stage,
        benchmarks.benchmark_days,
        benchmarks.benchmark_median_days,
        coalesce(benchmarks.benchmark_visit_count, 0) as benchmark_visit_count
    from open_now
    inner join opportunities on open_now.opportunity_id = opportunities.opportunity_id
    left join current_visits on open_now.opportunity_id = current_visits.opportunity_id
    left join benchmarks on open_now.stage = benchmarks.stage
)

select
    snapshot_date,
    opportunity_id,
    opportunity_name,
    account_id,
    owner_id,
    coalesce(segment, 'unknown') as segment,
    coalesce(product_line, 'unknown') as product_line,
    stage,
    stage_order,
    entered_stage_date,
    {{ crm_kpis.count_of('days_in_stage') }} as days_in_stage,
    cast(benchmark_days as {{ crm_kpis.type_double() }}) as benchmark_days,
    cast(benchmark_median_days as {{ crm_kpis.type_double() }}) as benchmark_median_days,
    {{ crm_kpis.count_of('benchmark_visit_count') }} as benchmark_visit_count,
    cast(days_in_stage - benchmark_days as {{ crm_kpis.type_double() }}) as days_over_benchmark,
    coalesce(days_in_stage > benchmark_days, false) as is_stalled,
    expected_close_date,
    case when expected_close_date < snapshot_date
        then {{ crm_kpis.count_of(dbt.datediff('expected_close_date', 'snapshot_date', 'day')) }}
        else {{ crm_kpis.count_of('0') }} end as days_past_expected_close,
    probability,
    amount_reporting as amount,
    weighted_amount_reporting as weighted_amount,
    '{{ var("reporting_currency") }}' as reporting_currency
from measured

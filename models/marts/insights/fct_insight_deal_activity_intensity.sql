{#- Insight 1b. Do worked deals close better? Each deal closed in the month (business time zone) is
    bucketed by the completed activities logged on it before it closed (var deal_activity_buckets,
    lower bounds), against its outcome: won and lost counts, win rate with its Wilson interval, won
    amount and won sales cycle. Grain: period_month x owner_id x segment x intensity_bucket. Sum the
    parts per bucket, then divide. -#}
{% set bounds = var('deal_activity_buckets') %}

with closed as (
    select *
    from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_closed and owner_id is not null
),

activities as (
    select opportunity_id, occurred_at
    from {{ ref('int_activities_enriched') }}
    where not is_tombstone and is_completed and opportunity_id is not null
),

worked as (
    select
        closed.opportunity_id,
        closed.close_month,
        closed.owner_id,
        coalesce(closed.segment, 'unknown') as segment,
        closed.is_won,
        closed.amount_reporting,
        case when not closed.is_close_before_creation then {{ dbt.datediff('closed.created_date', 'closed.close_date', 'day') }} end as cycle_days,
        count(activities.opportunity_id) as activity_count
    from closed
    left join activities
        on closed.opportunity_id = activities.opportunity_id
        and activities.occurred_at < closed.closed_at
    group by closed.opportunity_id, closed.close_month, closed.owner_id, coalesce(closed.segment, 'unknown'), closed.is_won,
        closed.amount_reporting, closed.is_close_before_creation, closed.created_date, closed.close_date
),

bucketed as (
    select
        worked.*,
        {{ crm_kpis.bucket_label('activity_count', bounds, whole=true) }} as intensity_bucket,
        {{ crm_kpis.bucket_order('activity_count', bounds) }} as intensity_bucket_order
    from worked
),

counted as (
    select
        close_month as period_month,
        owner_id,
        segment,
        intensity_bucket,
        min(intensity_bucket_order) as intensity_bucket_order,
        count(*) as closed_count,
        sum(case when is_won then 1 else 0 end) as won_count,
        sum(activity_count) as activity_count,
        {{ crm_kpis.to_money('sum(case when is_won then amount_reporting else 0 end)') }} as won_amount,
        sum(case when is_won and cycle_days is not null then cycle_days else 0 end) as won_cycle_days_sum,
        sum(case when is_won and cycle_days is not null then 1 else 0 end) as won_cycle_count
    from bucketed
    group by close_month, owner_id, segment, intensity_bucket
)

select
    period_month,
    owner_id,
    segment,
    intensity_bucket,
    intensity_bucket_order,
    {{ crm_kpis.count_of('closed_count') }} as closed_count,
    {{ crm_kpis.count_of('won_count') }} as won_count,
    {{ crm_kpis.count_of('closed_count - won_count') }} as lost_count,
    {{ crm_kpis.count_of('activity_count') }} as activity_count,
    {{ crm_kpis.ratio('activity_count', 'closed_count') }} as activities_per_deal,
    {{ crm_kpis.rate_with_interval('won_count', 'closed_count', 'win_rate') }},
    won_amount,
    {{ crm_kpis.count_of('won_cycle_days_sum') }} as won_cycle_days_sum,
    {{ crm_kpis.count_of('won_cycle_count') }} as won_cycle_count,
    {{ crm_kpis.ratio('won_cycle_days_sum', 'won_cycle_count') }} as won_cycle_days_avg,
    '{{ var("reporting_currency") }}' as reporting_currency
from counted

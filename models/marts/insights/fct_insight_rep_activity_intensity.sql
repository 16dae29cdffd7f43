{#- Insight 1a. Does a busier rep close more? Per owner and month (business time zone): completed
    activities and activities per week (activity_count x 7 / days of the month up to the build date),
    bucketed by var weekly_activity_buckets (lower bounds per week), beside the outcomes of the deals
    the owner closed that month: won and lost counts, win rate with its Wilson interval, won amount and
    the won sales cycle. Per bucket, sum the parts and divide: activities per week =
    7 x sum(activity_count) / sum(days_in_period). Grain: period_month x owner_id. -#}
{% set bounds = var('weekly_activity_buckets') %}

with activities as (
    select owner_id, occurred_month as period_month, activity_type
    from {{ ref('int_activities_enriched') }}
    where not is_tombstone and is_completed and owner_id is not null and occurred_date <= {{ crm_kpis.as_of_date() }}
),

activity_months as (
    select
        owner_id,
        period_month,
        count(*) as activity_count,
        sum(case when activity_type = 'call' then 1 else 0 end) as call_count,
        sum(case when activity_type = 'meeting' then 1 else 0 end) as meeting_count,
        sum(case when activity_type = 'email' then 1 else 0 end) as email_count
    from activities
    group by owner_id, period_month
),

closed as (
    select
        owner_id,
        close_month as period_month,
        is_won,
        amount_reporting,
        case when not is_close_before_creation then {{ dbt.datediff('created_date', 'close_date', 'day') }} end as cycle_days
    from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_closed and owner_id is not null and close_date <= {{ crm_kpis.as_of_date() }}
),

closed_months as (
    select
        owner_id,
        period_month,
        sum(case when is_won then 1 else 0 end) as won_count,
        sum(case when is_won then 0 else 1 end) as lost_count,
        sum(case when is_won then amount_reporting else 0 end) as won_amount,
        sum(case when is_won and cycle_days is not null then cycle_days else 0 end) as won_cycle_days_sum,
        sum(case when is_won and cycle_days is not null then 1 else 0 end) as won_cycle_count
    from closed
    group by owner_id, period_month
),

owner_months as (
    select owner_id, period_month from activity_months
    union
    select owner_id, period_month from closed_months
),

combined as (
    select
        owner_months.owner_id,
        owner_months.period_month,
        {{ dbt.datediff('owner_months.period_month', 'least(cast(' ~ dbt.last_day('owner_months.period_month', 'month') ~ ' as date), ' ~ crm_kpis.as_of_date() ~ ')', 'day') }} + 1 as days_in_period,
        coalesce(activity_months.activity_count, 0) as activity_count,
        coalesce(activity_months.call_count, 0) as call_count,
        coalesce(activity_months.meeting_count, 0) as meeting_count,
        coalesce(activity_months.email_count, 0) as email_count,
        coalesce(closed_months.won_count, 0) as won_count,
        coalesce(closed_months.lost_count, 0) as lost_count,
        {{ crm_kpis.to_money('coalesce(closed_months.won_amount, 0)') }} as won_amount,
        coalesce(closed_months.won_cycle_days_sum, 0) as won_cycle_days_sum,
        coalesce(closed_months.won_cycle_count, 0) as won_cycle_count
    from owner_months
    left join activity_months
        on owner_months.owner_id = activity_months.owner_id and owner_months.period_month = activity_months.period_month
    left join closed_months
        on owner_months.owner_id = closed_months.owner_id and owner_months.period_month = closed_months.period_month
),

rated as (
    select combined.*, {{ crm_kpis.safe_divide('7 * activity_count', 'days_in_period') }} as activities_per_week
    from combined
)

select
    period_month,
    owner_id,
    {{ crm_kpis.count_of('days_in_period') }} as days_in_period,
    {{ crm_kpis.count_of('activity_count') }} as activity_count,
    {{ crm_kpis.count_of('call_count') }} as call_count,
    {{ crm_kpis.count_of('meeting_count') }} as meeting_count,
    {{ crm_kpis.count_of('email_count') }} as email_count,
    cast(activities_per_week as {{ crm_kpis.type_double() }}) as activities_per_week,
    {{ crm_kpis.ratio('7 * call_count', 'days_in_period') }} as calls_per_week,
    {{ crm_kpis.bucket_label('activities_per_week', bounds) }} as intensity_bucket,
    {{ crm_kpis.bucket_order('activities_per_week', bounds) }} as intensity_bucket_order,
    {{ crm_kpis.count_of('won_count') }} as won_count,
    {{ crm_kpis.count_of('lost_count') }} as lost_count,
    {{ crm_kpis.rate_with_interval('won_count', 'won_count + lost_count', 'win_rate') }},
    won_amount,
    {{ crm_kpis.count_of('won_cycle_days_sum') }} as won_cycle_days_sum,
    {{ crm_kpis.count_of('won_cycle_count') }} as won_cycle_count,
    {{ crm_kpis.ratio('won_cycle_days_sum', 'won_cycle_count') }} as won_cycle_days_avg,
    '{{ var("reporting_currency") }}' as reporting_currency
from rated

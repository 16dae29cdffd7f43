{#- KPI 8, activity level: defined in models/docs/kpi_definitions.md (doc `fct_kpi_activity_level`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with activities as (
    select * from {{ ref('int_activities_enriched') }}
    where not is_tombstone and is_completed and owner_id is not null
),

users as (
    select * from {{ ref('dim_users') }}
),

by_period as (
    select 'week' as period_grain, occurred_week as period_start, activities.* from activities
    union all
    select 'month' as period_grain, occurred_month as period_start, activities.* from activities
),

counted as (
    select
        period_grain,
        period_start,
        owner_id,
        count(*) as activity_count,
        sum(case when activity_type = 'call' then 1 else 0 end) as call_count,
        sum(case when activity_type = 'email' then 1 else 0 end) as email_count,
        sum(case when activity_type = 'meeting' then 1 else 0 end) as meeting_count,
        sum(case when activity_type in ('call', 'email', 'meeting') then 0 else 1 end) as other_count,
        sum(case when opportunity_id is not null then 1 else 0 end) as opportunity_activity_count,
        count(distinct opportunity_id) as opportunities_worked,
        {{ crm_kpis.to_count('sum(duration_minutes)') }} as duration_minutes
    from by_period
    group by period_grain, period_start, owner_id
)

select
    counted.period_grain,
    counted.period_start,
    counted.owner_id,
    coalesce(users.team, 'unknown') as team,
    counted.activity_count,
    counted.call_count,
    counted.email_count,
    counted.meeting_count,
    counted.other_count,
    counted.opportunity_activity_count,
    counted.opportunities_worked,
    {{ crm_kpis.safe_divide('counted.opportunity_activity_count', 'counted.opportunities_worked') }} as activities_per_opportunity,
    counted.duration_minutes,
    rank() over (
        partition by counted.period_grain, counted.period_start, coalesce(users.team, 'unknown')
        order by counted.activity_count desc
    ) as team_rank
from counted
left join users on counted.owner_id = users.user_id

{#- KPI 8, activity level: defined in models/docs/kpi_definitions.md (doc `fct_kpi_activity_level`), the one home
    of its definition (also rendered into docs/kpis.md). The counts per owner and period are int_activity_level_counts
    (incremental); the owner's team and the leaderboard rank are added here, every build, as a team or a count of one
    owner moves every rank of the team. -#}
with counted as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_activity_level_counts') }}
),

users as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_users') }}
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

{#- The counts of KPI 8 (activity level, doc `fct_kpi_activity_level`) per owner and ISO week or month, before the
    team and its leaderboard rank (fct_kpi_activity_level adds them). Grain: period_grain x period_start x owner_id.

    Incremental by owner-period: a build recounts, from every activity now in them, the owner-weeks and owner-months
    that any activity rebuilt since the last build (int_activities_enriched's built_at) is in now or was in before
    (int_activity_versions), and replaces them; a group left without activities loses its row (the pre-hook deletes
    every such group first). Every other group keeps its row: its activities did not change. On Spark on parquet a
    table rebuilt whole (macros/incremental.sql, keys_can_vanish). -#}
-- depends_on: {{ ref('int_activity_versions') }}
{{ config(pre_hook="{{ crm_kpis.delete_affected_activity_groups() }}",
          **crm_kpis.incremental_replace_config(key=['period_grain', 'period_start', 'owner_id'], partition='period_start',
                                                keys_can_vanish=true)) }}
{{- crm_kpis.require_incremental_column('built_at') }}

with activities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_activities_enriched') }}
    where not is_tombstone and is_completed and owner_id is not null
),

{% if is_incremental() %}
affected as (
    {{ crm_kpis.affected_activity_groups() }}
),
{% endif %}

-- each grain on its own: in an incremental build every activity is probed against the affected groups once per
-- grain, not a union of two copies of all activities
by_period as (
    {%- for grain, column in [('week', 'occurred_week'), ('month', 'occurred_month')] %}
    select '{{ grain }}' as period_grain, activities.{{ column }} as period_start, activities.*
    from activities
    {%- if is_incremental() %}
    inner join affected
        on {{ crm_kpis.same_activity_group("'" ~ grain ~ "'", 'activities.' ~ column, 'activities.owner_id', 'affected') }}
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
    period_grain,
    period_start,
    owner_id,
    activity_count,
    call_count,
    email_count,
    meeting_count,
    other_count,
    opportunity_activity_count,
    opportunities_worked,
    duration_minutes,
    {{ crm_kpis.built_at() }} as built_at
from counted

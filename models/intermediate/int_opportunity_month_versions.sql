{#- Every version of each deal's close and created month that a build has seen: the record that lets a month-grain
    fact rebuild only the months a night's changes touch, the months a changed deal is in now and the months it
    was in when that fact was last built (a late correction of a deal closed last year rebuilds last year's month).

    Appended to (macros/incremental.sql, affected_months): each build adds a version for every deal
    int_opportunities_enriched rebuilt since the last one (its built_at) and a deleted version (is_deleted, no
    months) for every deal it held that is gone from there. A version's built_at is the build that appended it,
    so a fact that was not built for a night or two (a failed build) still finds the months it saw. A full refresh
    rebuilds it with one version per deal (the facts are rebuilt whole then too), so it holds at most a week of
    changes beside the deals themselves (the weekly full refresh, CRM_KPIS_FULL_REFRESH_WEEKDAY); without it, a build
    drops the versions no fact can ask for any more once they are many (macros/incremental.sql, compact_versions). -#}
{{ config(pre_hook="{{ crm_kpis.compact_versions('opportunity_id', 'int_opportunities_enriched') }}", **crm_kpis.incremental_append_config()) }}

with opportunities as (
    select opportunity_id, close_month, created_month, built_at from {{ ref('int_opportunities_enriched') }}
)

{% if is_incremental() %}
, gone as (
    -- the deals held here whose latest version is not a deletion and that are no longer in the enriched deals
    select versions.opportunity_id
    from {{ this }} as versions
    where not exists (select 1 from opportunities where opportunities.opportunity_id = versions.opportunity_id)
    group by versions.opportunity_id
    having max(case when versions.is_deleted then versions.built_at end) is null
        or max(case when versions.is_deleted then versions.built_at end) < max(case when not versions.is_deleted then versions.built_at end)
)

select opportunity_id, close_month, created_month, false as is_deleted, {{ crm_kpis.built_at() }} as built_at
from opportunities
where built_at > {{ crm_kpis.incremental_watermark('built_at') }}
union all
select opportunity_id, cast(null as date) as close_month, cast(null as date) as created_month, true as is_deleted,
    {{ crm_kpis.built_at() }} as built_at
from gone

{% else %}
select opportunity_id, close_month, created_month, false as is_deleted, {{ crm_kpis.built_at() }} as built_at
from opportunities
{% endif %}

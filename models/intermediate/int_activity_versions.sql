{#- Every version of each counted activity's owner, week and month that a build has seen: the record that lets the
    activity counts (int_activity_level_counts) rebuild only the owner-weeks and owner-months a night's changes touch,
    those an activity is in now and those it was in before (a deleted activity, a meeting moved to another week or
    handed to another rep).

    Appended to (macros/incremental.sql): each build adds a version for every activity int_activities_enriched rebuilt
    since the last one (its built_at) that counts in the KPI (completed, with an owner, not deleted). A version that
    does not count needs no record: it is in no count, and the change itself is found from int_activities_enriched.
    A full refresh rebuilds it with one version per counted activity; without the weekly full refresh, a build drops
    the versions no reader can ask for any more once they are many (compact_versions). -#}
{{ config(pre_hook="{{ crm_kpis.compact_versions('activity_id', 'int_activities_enriched') }}", **crm_kpis.incremental_append_config()) }}

select
    activity_id,
    owner_id,
    occurred_week,
    occurred_month,
    {{ crm_kpis.built_at() }} as built_at
from {{ ref('int_activities_enriched') }}
where not is_tombstone and is_completed and owner_id is not null
{%- if is_incremental() %}
    and built_at > {{ crm_kpis.incremental_watermark('built_at') }}
{%- endif %}

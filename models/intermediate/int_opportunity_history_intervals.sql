{#- Opportunity history as intervals: each change's values hold from valid_from until the next change
    (valid_to, NULL while current). An opportunity whose source has no history row gets its versions
    from snp_opportunity_versions instead (flagged): the first from its creation,
    each later one from its updated_at, so point-in-time questions see it, and see it right from the
    first refresh on. One without a creation time gets none.

    Incremental: history is append-mostly, but a new change closes the previous interval, so every
    run rebuilds all intervals of the opportunities that received rows since the last run, replacing
    them by opportunity_id (macros/incremental.sql); on Spark every opportunity of the same
    opportunity_bucket is rebuilt with them (insert_overwrite of that partition). Watermark: the
    landing time of the rows. -#}
{{ config(**crm_kpis.incremental_replace_config(key='opportunity_id', partition='opportunity_bucket')) }}

with history as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunity_history_unioned') }}
),

opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_unioned') }}
),

stages as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('opportunity_stages') }}
),

versions_without_history as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('snp_opportunity_versions') }}
),

{% if is_incremental() %}
{{- crm_kpis.require_incremental_column('built_at') }}
watermark as (
    select {{ crm_kpis.incremental_watermark() }} as loaded_at
),

changed_opportunities as (
    select distinct history.opportunity_id
    from history
    where history.loaded_at > (select loaded_at from watermark)
    union
    select opportunities.opportunity_id
    from opportunities
    where opportunities.loaded_at > (select loaded_at from watermark)
),

rebuilt_opportunities as (
    {% if crm_kpis.replaces_partitions() -%}
    -- the partition of a changed opportunity is rewritten whole: every opportunity in it is rebuilt
    select opportunity_id
    from (select opportunity_id from history union select opportunity_id from opportunities) as known
    where {{ crm_kpis.key_bucket('opportunity_id') }} in (
        select {{ crm_kpis.key_bucket('opportunity_id') }} from changed_opportunities)
    {%- else -%}
    select opportunity_id from changed_opportunities
    {%- endif %}
),

history_to_build as (
    select history.*
    from history
    inner join rebuilt_opportunities on history.opportunity_id = rebuilt_opportunities.opportunity_id
),

opportunities_to_build as (
    select opportunities.*
    from opportunities
    inner join rebuilt_opportunities on opportunities.opportunity_id = rebuilt_opportunities.opportunity_id
),
{% else %}
history_to_build as (
    select * from history
),

opportunities_to_build as (
    select * from opportunities
),
{% endif %}

opportunities_without_history as (
    -- versions snapshotted by refreshes; the first holds from creation, since nothing earlier is known
    select
        versions.opportunity_id,
        case
            when row_number() over (partition by versions.opportunity_id order by versions.valid_from) = 1
                then opportunities_to_build.created_at
            else versions.valid_from
        end as changed_at,
        versions.stage,
        versions.amount,
        versions.currency,
        versions.expected_close_date,
        versions.probability,
        versions.forecast_category,
        versions.loaded_at,
        true as is_derived_from_current_values
    from versions_without_history as versions
    inner join opportunities_to_build on versions.opportunity_id = opportunities_to_build.opportunity_id
    -- history_to_build holds every history row of the opportunities being built: no need to read all history
    left join history_to_build on opportunities_to_build.opportunity_id = history_to_build.opportunity_id
    where history_to_build.opportunity_id is null
        -- without a creation time there is no moment the interval could start (counted in the
        -- data-quality fact as missing_created_at)
        and opportunities_to_build.created_at is not null
),

changes as (
    select
        opportunity_id, changed_at, stage, amount, currency, expected_close_date, probability,
        forecast_category, loaded_at, false as is_derived_from_current_values
    from history_to_build
    union all
    select * from opportunities_without_history
),

sequenced as (
    select
        changes.*,
        row_number() over (partition by changes.opportunity_id order by changes.changed_at, stages.stage_order) as change_seq,
        lead(changes.changed_at) over (partition by changes.opportunity_id order by changes.changed_at, stages.stage_order) as next_changed_at,
        stages.stage_order,
        stages.is_closed as is_closed_stage,
        stages.is_won as is_won_stage,
        stages.default_probability
    from changes
    left join stages on changes.stage = stages.stage
)

select
    opportunity_id,
    change_seq,
    changed_at as valid_from,
    next_changed_at as valid_to,
    {{ crm_kpis.to_business_time('changed_at') }} as valid_from_local,
    {{ crm_kpis.to_business_time('next_changed_at') }} as valid_to_local,
    next_changed_at is null as is_current,
    stage,
    stage_order,
    is_closed_stage,
    is_won_stage,
    amount,
    currency,
    expected_close_date,
    probability,
    coalesce(probability, default_probability) as effective_probability,
    forecast_category,
    is_derived_from_current_values,
    loaded_at,
    {{ crm_kpis.built_at() }} as built_at,
    {{ crm_kpis.key_bucket('opportunity_id') }} as opportunity_bucket
from sequenced

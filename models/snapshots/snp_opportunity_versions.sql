{#- Every version of the opportunities whose source has no history (SCD2 on updated_at): each build
    appends the opportunities whose updated_at is later than their latest stored version (or that have
    none), so the table is the only record of what earlier builds saw. A version holds from valid_from
    (its updated_at) until the next version's valid_from.

    An incremental model that only appends, instead of a dbt snapshot: snapshots need merge (and on
    Spark Delta, Iceberg or Hudi), appending works on every engine. Never rebuilt by --full-refresh.
    The first build of a warehouse that still holds the dbt snapshot of earlier versions
    (snapshots.snp_opportunities_without_history) takes its versions over. -#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, schema='snapshots') }}

{%- set columns = ['opportunity_id', 'stage', 'amount', 'currency', 'expected_close_date', 'probability',
                   'forecast_category', 'created_at', 'updated_at', 'loaded_at', 'source_system'] %}

with current_versions as (
    select {{ columns | join(', ') }}, updated_at as valid_from
    from {{ ref('int_opportunities_without_history') }}
),

{% if is_incremental() %}
stored as (
    select opportunity_id, max(valid_from) as valid_from from {{ this }} group by opportunity_id
)

select current_versions.*
from current_versions
left join stored on current_versions.opportunity_id = stored.opportunity_id
where stored.opportunity_id is null or current_versions.valid_from > stored.valid_from

{% else %}
{%- set dbt_snapshot = adapter.get_relation(database=this.database, schema='snapshots',
                                            identifier='snp_opportunities_without_history') if execute else none %}
{% if dbt_snapshot %}
earlier_versions as (
    select {{ columns | join(', ') }}, dbt_valid_from as valid_from from {{ dbt_snapshot }}
),

latest_earlier as (
    select opportunity_id, max(valid_from) as valid_from from earlier_versions group by opportunity_id
),

{% endif %}
all_versions as (
    {% if dbt_snapshot -%}
    select * from earlier_versions
    union all
    select current_versions.*
    from current_versions
    left join latest_earlier on current_versions.opportunity_id = latest_earlier.opportunity_id
    where latest_earlier.opportunity_id is null or current_versions.valid_from > latest_earlier.valid_from
    {%- else -%}
    select * from current_versions
    {%- endif %}
)

select * from all_versions
{% endif %}

{#- One row per activity with its business-time-zone date, ISO week and month.

    Incremental: activities are the largest table and append-mostly. Each run takes the rows landed since
    the last run (watermark: landing time) and replaces what they change (macros/incremental.sql):
    - by activity_id (DuckDB, Postgres): the new versions, and for a soft delete (a changed row that staging
      drops) a tombstone from the sources' deleted records, which replaces the old row. Tombstones stay in
      the table (is_tombstone); readers filter them, nothing is deleted outside dbt's own strategy;
    - by month (Spark): every activity of each month that a new version, an old version of a changed
      activity or a deleted one falls in, rebuilt from the sources (so a deleted activity is simply absent). -#}
-- depends_on: {{ ref('int_deleted_records_unioned') }}
{{ config(**crm_kpis.incremental_replace_config(key='activity_id', partition='occurred_month')) }}

{%- set by_partition = is_incremental() and crm_kpis.replaces_partitions() %}
{{- crm_kpis.require_incremental_column('built_at') }}

with all_activities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_activities_unioned') }}
),

{% if is_incremental() %}
watermark as (
    select {{ crm_kpis.incremental_watermark() }} as loaded_at
),

deleted_since_watermark as (
    select deleted.record_id as activity_id, deleted.loaded_at
    from {{ ref('int_deleted_records_unioned') }} as deleted
    where deleted.table_name = 'activities'
        and deleted.loaded_at > (select loaded_at from watermark)
),
{% endif %}

activities as (
    select * from all_activities
    {% if is_incremental() and not by_partition %}
    where loaded_at > (select loaded_at from watermark)
    {% endif %}
),

dated as (
    select
        activity_id,
        activity_type,
        activity_type_value,
        occurred_at,
        {{ crm_kpis.to_business_date('occurred_at') }} as occurred_date,
        is_completed,
        owner_id,
        account_id,
        opportunity_id,
        lead_id,
        duration_minutes,
        loaded_at
    from activities
),

live_activities as (
    select
        activity_id,
        activity_type,
        activity_type_value,
        occurred_at,
        occurred_date,
        cast({{ dbt.date_trunc('week', 'occurred_date') }} as date) as occurred_week,
        is_completed,
        owner_id,
        account_id,
        opportunity_id,
        lead_id,
        duration_minutes,
        loaded_at,
        {{ crm_kpis.built_at() }} as built_at,
        false as is_tombstone,
        cast({{ dbt.date_trunc('month', 'occurred_date') }} as date) as occurred_month
    from dated
)

{% if by_partition %}
, changed_months as (
    select occurred_month from live_activities where loaded_at > (select loaded_at from watermark)
    union
    select previous.occurred_month
    from {{ this }} as previous
    where previous.activity_id in (
        select activity_id from live_activities where loaded_at > (select loaded_at from watermark)
        union
        select activity_id from deleted_since_watermark
    )
)

select * from live_activities
where {{ crm_kpis.in_values('occurred_month', 'select occurred_month from changed_months') }}

{% else %}
select * from live_activities
{% if is_incremental() %}
union all
select
    deleted.activity_id,
    cast(null as {{ dbt.type_string() }}) as activity_type,
    cast(null as {{ dbt.type_string() }}) as activity_type_value,
    cast(null as {{ dbt.type_timestamp() }}) as occurred_at,
    cast(null as date) as occurred_date,
    cast(null as date) as occurred_week,
    false as is_completed,
    cast(null as {{ dbt.type_string() }}) as owner_id,
    cast(null as {{ dbt.type_string() }}) as account_id,
    cast(null as {{ dbt.type_string() }}) as opportunity_id,
    cast(null as {{ dbt.type_string() }}) as lead_id,
    cast(null as {{ dbt.type_bigint() }}) as duration_minutes,
    deleted.loaded_at,
    {{ crm_kpis.built_at() }} as built_at,
    true as is_tombstone,
    cast(null as date) as occurred_month
from deleted_since_watermark as deleted
{% endif %}
{% endif %}

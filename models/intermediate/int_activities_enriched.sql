{#- One row per activity with its business-time-zone date, ISO week and month.

    Incremental: activities are the largest table and append-mostly. Each run takes the rows landed
    since the last run (watermark: landing time) and replaces them by activity_id (delete+insert).
    A soft delete arrives as a changed row; staging drops it, so its key is taken from the deleted
    records of the sources as a tombstone, replaces the old row and is removed by the post-hook. -#}
-- depends_on: {{ ref('int_deleted_records_unioned') }}
{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    post_hook="delete from {{ this }} where is_tombstone"
) }}

with activities as (
    select * from {{ ref('int_activities_unioned') }}
    {% if is_incremental() %}
    where loaded_at > (select max(loaded_at) from {{ this }})
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
        cast({{ dbt.date_trunc('month', 'occurred_date') }} as date) as occurred_month,
        is_completed,
        owner_id,
        account_id,
        opportunity_id,
        lead_id,
        duration_minutes,
        loaded_at,
        false as is_tombstone
    from dated
)

{% if is_incremental() %}
, tombstones as (
    select
        deleted.record_id as activity_id,
        cast(null as {{ dbt.type_string() }}) as activity_type,
        cast(null as {{ dbt.type_string() }}) as activity_type_value,
        cast(null as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(null as date) as occurred_date,
        cast(null as date) as occurred_week,
        cast(null as date) as occurred_month,
        false as is_completed,
        cast(null as {{ dbt.type_string() }}) as owner_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        cast(null as {{ dbt.type_int() }}) as duration_minutes,
        deleted.loaded_at,
        true as is_tombstone
    from {{ ref('int_deleted_records_unioned') }} as deleted
    where deleted.table_name = 'activities'
        and deleted.loaded_at > (select max(loaded_at) from {{ this }})
)
{% endif %}

select * from live_activities
{% if is_incremental() %}
union all
select * from tombstones
{% endif %}

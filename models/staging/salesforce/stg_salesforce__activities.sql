{#- Tasks and events in the shared shape. The type is the task subtype or type (Call, Email, ...)
    through seed activity_type_map; an event of no known type is a meeting. A task is completed when
    closed; an event when it has ended by the build date. what_id is an opportunity when it has the
    Opportunity key prefix 006, who_id a lead with prefix 00Q. -#}
{%- set task = source('salesforce', 'task') %}
{%- set event = source('salesforce', 'event') %}

with task as (
    select * from {{ task }}
    where {{ crm_kpis.el_row_filter(task) }}
),

event as (
    select * from {{ event }}
    where {{ crm_kpis.el_row_filter(event) }}
),

activity_type_map as (
    select * from {{ ref('activity_type_map') }}
),

tasks as (
    select
        cast(id as {{ dbt.type_string() }}) as activity_id,
        cast(coalesce(
            {{ crm_kpis.optional_column(task, 'task_subtype', dbt.type_string()) }},
            {{ crm_kpis.optional_column(task, 'type', dbt.type_string()) }}
        ) as {{ dbt.type_string() }}) as activity_type_value,
        'task' as fallback_type,
        coalesce(
            {{ crm_kpis.optional_column(task, 'completed_date_time', dbt.type_timestamp()) }},
            cast(activity_date as {{ dbt.type_timestamp() }}),
            cast(created_date as {{ dbt.type_timestamp() }})
        ) as occurred_at,
        coalesce({{ crm_kpis.to_boolean('is_closed') }}, false) as is_completed,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(what_id as {{ dbt.type_string() }}) as what_id,
        cast(who_id as {{ dbt.type_string() }}) as who_id,
        cast(round(cast(call_duration_in_seconds as {{ crm_kpis.type_double() }}) / 60) as {{ dbt.type_bigint() }}) as duration_minutes,
        coalesce(
            {{ crm_kpis.optional_column(task, 'last_modified_date', dbt.type_timestamp()) }},
            cast(_fivetran_synced as {{ dbt.type_timestamp() }})
        ) as updated_at,
        cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from task
),

events as (
    select
        cast(id as {{ dbt.type_string() }}) as activity_id,
        cast(type as {{ dbt.type_string() }}) as activity_type_value,
        'meeting' as fallback_type,
        coalesce(
            cast(start_date_time as {{ dbt.type_timestamp() }}),
            cast(activity_date_time as {{ dbt.type_timestamp() }})
        ) as occurred_at,
        coalesce(cast(end_date_time as {{ dbt.type_timestamp() }}), cast(start_date_time as {{ dbt.type_timestamp() }}))
            < cast({{ dbt.dateadd('day', 1, crm_kpis.as_of_date()) }} as {{ dbt.type_timestamp() }}) as is_completed,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(what_id as {{ dbt.type_string() }}) as what_id,
        cast(who_id as {{ dbt.type_string() }}) as who_id,
        cast(duration_in_minutes as {{ dbt.type_bigint() }}) as duration_minutes,
        coalesce(
            {{ crm_kpis.optional_column(event, 'last_modified_date', dbt.type_timestamp()) }},
            cast(_fivetran_synced as {{ dbt.type_timestamp() }})
        ) as updated_at,
        cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from event
),

activities as (
    select * from tasks
    union all
    select * from events
)

select
    activities.activity_id,
    activities.activity_type_value,
    coalesce(activity_type_map.activity_type, activities.fallback_type) as activity_type,
    activities.occurred_at,
    activities.is_completed,
    activities.owner_id,
    activities.account_id,
    case when activities.what_id like '006%' then activities.what_id end as opportunity_id,
    case when activities.who_id like '00Q%' then activities.who_id end as lead_id,
    activities.duration_minutes,
    activities.updated_at,
    activities.loaded_at
from activities
left join activity_type_map on lower(activities.activity_type_value) = activity_type_map.source_value

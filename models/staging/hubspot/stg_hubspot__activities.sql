{#- Calls, e-mails, meetings, tasks and notes in the shared shape, at their hs_timestamp (a meeting's
    start). A task is completed when its status is COMPLETED; the others when they happened by the
    build date. Deal and company are each engagement's first association. -#}
{%- set kinds = [('call', 'engagement_call'), ('email', 'engagement_email'), ('meeting', 'engagement_meeting'),
                 ('task', 'engagement_task'), ('note', 'engagement_note')] %}

with
{% for kind, table in kinds -%}
{%- set relation = source('hubspot', table) %}
{{ kind }}s as (
    select
        cast(engagement_id as {{ dbt.type_string() }}) as activity_id,
        '{{ kind }}' as activity_type_value,
        coalesce(
            {{ crm_kpis.optional_column(relation, 'property_hs_timestamp', dbt.type_timestamp()) }},
            {{ crm_kpis.optional_column(relation, 'start_time', dbt.type_timestamp()) }},
            {{ crm_kpis.optional_column(relation, 'property_hs_createdate', dbt.type_timestamp()) }}
        ) as occurred_at,
        {% if kind == 'task' -%}
        upper({{ crm_kpis.optional_column(relation, 'property_hs_task_status', dbt.type_string()) }}) = 'COMPLETED' as is_done,
        {%- else -%}
        cast(null as {{ dbt.type_boolean() }}) as is_done,
        {%- endif %}
        {{ crm_kpis.optional_column(relation, 'property_hubspot_owner_id', dbt.type_string()) }} as owner_id,
        {{ crm_kpis.optional_column(relation, 'property_hs_lastmodifieddate', dbt.type_timestamp()) }} as updated_at,
        cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from {{ relation }}
    where {{ crm_kpis.el_row_filter(relation) }}
),
{% endfor %}

engagements as (
    {% for kind, table in kinds -%}
    select * from {{ kind }}s
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

first_deal as (
    select cast(engagement_id as {{ dbt.type_string() }}) as activity_id, min(cast(deal_id as {{ dbt.type_string() }})) as opportunity_id
    from {{ source('hubspot', 'engagement_deal') }}
    group by 1
),

first_company as (
    select cast(engagement_id as {{ dbt.type_string() }}) as activity_id, min(cast(company_id as {{ dbt.type_string() }})) as account_id
    from {{ source('hubspot', 'engagement_company') }}
    group by 1
),

activity_type_map as (
    select * from {{ ref('activity_type_map') }}
)

select
    engagements.activity_id,
    engagements.activity_type_value,
    coalesce(activity_type_map.activity_type, 'other') as activity_type,
    engagements.occurred_at,
    coalesce(
        engagements.is_done,
        engagements.occurred_at < cast({{ dbt.dateadd('day', 1, crm_kpis.as_of_date()) }} as {{ dbt.type_timestamp() }}),
        false
    ) as is_completed,
    engagements.owner_id,
    first_company.account_id,
    first_deal.opportunity_id,
    cast(null as {{ dbt.type_string() }}) as lead_id,
    cast(null as {{ dbt.type_bigint() }}) as duration_minutes,
    coalesce(engagements.updated_at, engagements.loaded_at) as updated_at,
    engagements.loaded_at
from engagements
left join first_deal on engagements.activity_id = first_deal.activity_id
left join first_company on engagements.activity_id = first_company.activity_id
left join activity_type_map on engagements.activity_type_value = activity_type_map.source_value

{#- Soft-deleted deals, companies, contacts and engagements, and deals merged into another deal
    (counted as deleted opportunities: they leave every KPI). -#}
{%- set objects = [('opportunities', 'deal', 'deal_id'), ('accounts', 'company', 'id'), ('leads', 'contact', 'id'),
                   ('activities', 'engagement_call', 'engagement_id'), ('activities', 'engagement_email', 'engagement_id'),
                   ('activities', 'engagement_meeting', 'engagement_id'), ('activities', 'engagement_task', 'engagement_id'),
                   ('activities', 'engagement_note', 'engagement_id')] %}

with deleted as (
    {% for table_name, object, key in objects -%}
    select
        '{{ table_name }}' as table_name,
        cast({{ key }} as {{ dbt.type_string() }}) as record_id,
        {{ crm_kpis.optional_column(source('hubspot', object), '_fivetran_synced', dbt.type_timestamp()) }} as loaded_at
    from {{ source('hubspot', object) }}
    where {{ crm_kpis.el_row_filter(source('hubspot', object), deleted=true) }}
    union all
    {% endfor -%}
    select
        'opportunities' as table_name,
        cast(merged_deal_id as {{ dbt.type_string() }}) as record_id,
        cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from {{ source('hubspot', 'merged_deal') }}
)

select table_name, record_id, max(loaded_at) as loaded_at
from deleted
group by table_name, record_id

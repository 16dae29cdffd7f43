{#- Lead in the shared shape; lead_source through seed lead_source_map (unmapped: other). -#}
{%- set lead = source('salesforce', 'lead') %}

with lead as (
    select * from {{ lead }}
    where {{ crm_kpis.el_row_filter(lead) }}
),

lead_source_map as (
    select * from {{ ref('lead_source_map') }}
)

select
    cast(lead.id as {{ dbt.type_string() }}) as lead_id,
    cast(lead.created_date as {{ dbt.type_timestamp() }}) as created_at,
    cast(lead.lead_source as {{ dbt.type_string() }}) as source_value,
    coalesce(lead_source_map.lead_source, 'other') as lead_source,
    cast(lead.status as {{ dbt.type_string() }}) as status,
    cast(lead.owner_id as {{ dbt.type_string() }}) as owner_id,
    cast(lead.company as {{ dbt.type_string() }}) as company_name,
    -- converted_date is a date: local midnight of the business time zone
    case when coalesce({{ crm_kpis.to_boolean('lead.is_converted') }}, false)
        then {{ crm_kpis.local_to_utc('cast(lead.converted_date as date)') }} end as converted_at,
    cast(lead.converted_account_id as {{ dbt.type_string() }}) as converted_account_id,
    cast(lead.converted_opportunity_id as {{ dbt.type_string() }}) as converted_opportunity_id,
    coalesce(
        {{ crm_kpis.optional_column(lead, 'last_modified_date', dbt.type_timestamp()) }},
        cast(lead._fivetran_synced as {{ dbt.type_timestamp() }})
    ) as updated_at,
    cast(lead._fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
from lead
left join lead_source_map on lower(cast(lead.lead_source as {{ dbt.type_string() }})) = lead_source_map.source_value

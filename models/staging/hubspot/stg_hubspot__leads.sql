{#- HubSpot has no lead object: every contact is a lead, created at its create date, from its
    original source (hs_analytics_source through seed lead_source_map). It converted to an
    opportunity when its first associated deal was created, into that deal's company. -#}
{%- set contact = source('hubspot', 'contact') %}

with contact as (
    select * from {{ contact }}
    where {{ crm_kpis.el_row_filter(contact) }}
),

deals as (
    select * from {{ ref('stg_hubspot__opportunities') }}
),

deal_contact as (
    select cast(contact_id as {{ dbt.type_string() }}) as contact_id, cast(deal_id as {{ dbt.type_string() }}) as deal_id
    from {{ source('hubspot', 'deal_contact') }}
),

first_deals as (
    select
        deal_contact.contact_id,
        deals.opportunity_id,
        deals.account_id,
        deals.created_at,
        deals.loaded_at,
        row_number() over (partition by deal_contact.contact_id order by deals.created_at, deals.opportunity_id) as deal_rank
    from deal_contact
    inner join deals on deal_contact.deal_id = deals.opportunity_id
),

lead_source_map as (
    select * from {{ ref('lead_source_map') }}
),

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as lead_id,
        cast(property_createdate as {{ dbt.type_timestamp() }}) as created_at,
        {{ crm_kpis.optional_column(contact, 'property_hs_analytics_source', dbt.type_string()) }} as source_value,
        {{ crm_kpis.optional_column(contact, 'property_hs_lead_status', dbt.type_string()) }} as status,
        {{ crm_kpis.optional_column(contact, 'property_hubspot_owner_id', dbt.type_string()) }} as owner_id,
        cast(property_company as {{ dbt.type_string() }}) as company_name,
        coalesce(
            {{ crm_kpis.optional_column(contact, 'property_lastmodifieddate', dbt.type_timestamp()) }},
            cast(_fivetran_synced as {{ dbt.type_timestamp() }})
        ) as updated_at,
        cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from contact
)

select
    typed.lead_id,
    typed.created_at,
    typed.source_value,
    coalesce(lead_source_map.lead_source, 'other') as lead_source,
    typed.status,
    typed.owner_id,
    typed.company_name,
    first_deals.created_at as converted_at,
    first_deals.account_id as converted_account_id,
    first_deals.opportunity_id as converted_opportunity_id,
    typed.updated_at,
    -- the conversion comes from the first deal: its landing changes the lead too
    greatest(typed.loaded_at, first_deals.loaded_at) as loaded_at
from typed
left join first_deals on typed.lead_id = first_deals.contact_id and first_deals.deal_rank = 1
left join lead_source_map on lower(typed.source_value) = lead_source_map.source_value

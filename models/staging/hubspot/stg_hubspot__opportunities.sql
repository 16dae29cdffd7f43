{#- Deals in the shared shape. Deleted and merged-away deals are dropped. Won / lost is read from the
    deal's pipeline stage (closed_won, is_closed or a 0 / 1 probability), not from a deal flag; the
    deal's probability is its stage's (0-1 in HubSpot, 0-100 here). The account and the lead are the
    deal's first associated company and contact. -#}
{%- set deal = source('hubspot', 'deal') %}

with deal as (
    select * from {{ deal }}
    where {{ crm_kpis.el_row_filter(deal) }}
),

merged_deal as (
    select * from {{ source('hubspot', 'merged_deal') }}
),

stages as (
    select * from {{ ref('stg_hubspot__deal_pipeline_stages') }}
),

first_company as (
    select deal_id, min(cast(company_id as {{ dbt.type_string() }})) as account_id
    from {{ source('hubspot', 'deal_company') }}
    group by deal_id
),

first_contact as (
    select deal_id, min(cast(contact_id as {{ dbt.type_string() }})) as lead_id
    from {{ source('hubspot', 'deal_contact') }}
    group by deal_id
),

live_deals as (
    select deal.*
    from deal
    where deal.deal_id not in (select merged_deal_id from merged_deal where merged_deal_id is not null)
)

select
    cast(live_deals.deal_id as {{ dbt.type_string() }}) as opportunity_id,
    first_company.account_id,
    cast(live_deals.owner_id as {{ dbt.type_string() }}) as owner_id,
    first_contact.lead_id,
    cast(live_deals.property_dealname as {{ dbt.type_string() }}) as opportunity_name,
    {{ crm_kpis.canonical_opportunity_type(crm_kpis.optional_column(deal, 'property_dealtype', dbt.type_string())) }} as opportunity_type,
    {{ crm_kpis.optional_column(deal, 'property_product_line', dbt.type_string()) }} as product_line,
    stages.deal_stage as stage,
    cast(live_deals.property_amount as {{ dbt.type_numeric() }}) as amount,
    upper(coalesce({{ crm_kpis.optional_column(deal, 'property_deal_currency_code', dbt.type_string()) }}, {{ crm_kpis.default_currency('hubspot') }})) as currency,
    {{ crm_kpis.hubspot_probability_percent("stages.probability") }} as probability,
    cast(live_deals.property_closedate as date) as expected_close_date,
    cast(live_deals.property_createdate as {{ dbt.type_timestamp() }}) as created_at,
    case when stages.is_closed then cast(live_deals.property_closedate as {{ dbt.type_timestamp() }}) end as closed_at,
    coalesce(stages.is_closed, false) as is_closed,
    coalesce(stages.is_won, false) as is_won,
    {{ crm_kpis.optional_column(deal, 'property_closed_lost_reason', dbt.type_string()) }} as lost_reason,
    {{ crm_kpis.canonical_forecast_category(crm_kpis.optional_column(deal, 'property_hs_manual_forecast_category', dbt.type_string())) }} as forecast_category,
    coalesce(
        {{ crm_kpis.optional_column(deal, 'property_hs_lastmodifieddate', dbt.type_timestamp()) }},
        {{ crm_kpis.optional_column(deal, '_fivetran_synced', dbt.type_timestamp()) }}
    ) as updated_at,
    {{ crm_kpis.optional_column(deal, '_fivetran_synced', dbt.type_timestamp()) }} as loaded_at
from live_deals
left join stages on cast(live_deals.deal_pipeline_stage_id as {{ dbt.type_string() }}) = stages.stage_id
left join first_company on live_deals.deal_id = first_company.deal_id
left join first_contact on live_deals.deal_id = first_contact.deal_id

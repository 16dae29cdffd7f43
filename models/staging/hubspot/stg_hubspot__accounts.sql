{#- Companies in the shared shape. The segment is read from the head count (numberofemployees);
    the country only when HubSpot holds a two-letter code. -#}
{%- set company = source('hubspot', 'company') %}

with company as (
    select * from {{ company }}
    where {{ crm_kpis.el_row_filter(company) }}
),

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as account_id,
        cast(property_name as {{ dbt.type_string() }}) as account_name,
        cast(property_industry as {{ dbt.type_string() }}) as industry,
        {{ dbt.safe_cast(crm_kpis.optional_column(company, 'property_numberofemployees', dbt.type_string()), dbt.type_int()) }} as employees,
        trim(cast(property_country as {{ dbt.type_string() }})) as country,
        {{ crm_kpis.optional_column(company, 'property_hubspot_owner_id', dbt.type_string()) }} as owner_id,
        cast(property_createdate as {{ dbt.type_timestamp() }}) as created_at,
        coalesce(
            {{ crm_kpis.optional_column(company, 'property_hs_lastmodifieddate', dbt.type_timestamp()) }},
            cast(_fivetran_synced as {{ dbt.type_timestamp() }})
        ) as updated_at,
        cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from company
)

select
    account_id,
    account_name,
    industry,
    {{ crm_kpis.segment_from_employees('employees') }} as segment,
    case when {{ dbt.length('country') }} = 2 then upper(country) end as country_code,
    owner_id,
    created_at,
    updated_at,
    loaded_at
from typed

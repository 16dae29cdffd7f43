{#- Account in the shared shape. Salesforce has no segment: it is read from number_of_employees
    (macro segment_from_employees). -#}
{%- set account = source('salesforce', 'account') %}

with account as (
    select * from {{ account }}
    where {{ crm_kpis.el_row_filter(account) }}
)

select
    cast(id as {{ dbt.type_string() }}) as account_id,
    cast(name as {{ dbt.type_string() }}) as account_name,
    cast(industry as {{ dbt.type_string() }}) as industry,
    {{ crm_kpis.segment_from_employees(dbt.safe_cast('number_of_employees', dbt.type_int())) }} as segment,
    upper(cast(billing_country_code as {{ dbt.type_string() }})) as country_code,
    cast(owner_id as {{ dbt.type_string() }}) as owner_id,
    {{ crm_kpis.optional_column(account, 'created_date', dbt.type_timestamp()) }} as created_at,
    coalesce(
        {{ crm_kpis.optional_column(account, 'last_modified_date', dbt.type_timestamp()) }},
        cast(_fivetran_synced as {{ dbt.type_timestamp() }})
    ) as updated_at,
    cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
from account

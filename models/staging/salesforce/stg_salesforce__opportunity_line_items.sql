{%- set line_item = source('salesforce', 'opportunity_line_item') %}

with line_item as (
    select * from {{ line_item }}
    where {{ crm_kpis.el_row_filter(line_item) }}
)

select
    cast(id as {{ dbt.type_string() }}) as line_item_id,
    cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
    cast(product_2_id as {{ dbt.type_string() }}) as product_id,
    cast(quantity as {{ crm_kpis.type_double() }}) as quantity,
    cast(unit_price as {{ dbt.type_numeric() }}) as unit_price,
    cast(total_price as {{ dbt.type_numeric() }}) as total_price,
    upper(coalesce({{ crm_kpis.optional_column(line_item, 'currency_iso_code', dbt.type_string()) }}, {{ crm_kpis.default_currency('salesforce') }})) as currency
from line_item

{#- Product2 in the shared shape; product line = family. Salesforce has no recurring flag: none is. -#}
{%- set product = source('salesforce', 'product_2') %}

with product as (
    select * from {{ product }}
    where {{ crm_kpis.el_row_filter(product) }}
)

select
    cast(id as {{ dbt.type_string() }}) as product_id,
    cast(name as {{ dbt.type_string() }}) as product_name,
    cast(family as {{ dbt.type_string() }}) as product_line,
    false as is_recurring
from product

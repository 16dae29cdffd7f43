with source as (
    select * from {{ source('files', 'opportunity_line_items') }}
)

select
    line_item_id,
    opportunity_id,
    product_id,
    quantity,
    cast(unit_price as {{ dbt.type_numeric() }}) as unit_price,
    cast(total_price as {{ dbt.type_numeric() }}) as total_price,
    upper(currency) as currency
from source

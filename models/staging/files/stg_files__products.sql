with source as (
    select * from {{ source('files', 'products') }}
)

select
    product_id,
    product_name,
    product_line,
    coalesce(is_recurring, false) as is_recurring
from source

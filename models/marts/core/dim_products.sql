select
    product_id,
    product_name,
    product_line,
    is_recurring
from {{ ref('int_products_unioned') }}

with source as (
    select * from {{ source('files', 'subscriptions') }}
)

select
    subscription_id,
    account_id,
    product_id,
    start_date,
    end_date,
    cast(mrr_amount as {{ dbt.type_numeric() }}) as mrr_amount,
    upper(currency) as currency,
    updated_at,
    _loaded_at as loaded_at
from source

with source as (
    select * from {{ source('files', 'acquisition_spend') }}
)

select
    spend_month,
    cost_type,
    channel,
    cast(amount as {{ dbt.type_numeric() }}) as amount,
    upper(currency) as currency
from source

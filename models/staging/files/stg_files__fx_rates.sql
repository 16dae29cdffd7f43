with source as (
    select * from {{ source('files', 'fx_rates') }}
)

select
    upper(currency) as currency,
    rate_month,
    cast(rate as {{ dbt.type_numeric() }}) as rate
from source

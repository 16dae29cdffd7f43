with source as (
    select * from {{ source('files', 'forecast_submissions') }}
)

select
    user_id,
    period_start,
    period_end,
    submitted_at,
    cast(forecast_amount as {{ dbt.type_numeric() }}) as forecast_amount,
    upper(currency) as currency,
    forecast_category
from source

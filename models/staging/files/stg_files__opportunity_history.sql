with source as (
    select * from {{ source('files', 'opportunity_history') }}
)

select
    opportunity_id,
    changed_at,
    stage,
    cast(amount as {{ dbt.type_numeric() }}) as amount,
    upper(currency) as currency,
    expected_close_date,
    probability,
    forecast_category,
    _loaded_at as loaded_at
from source

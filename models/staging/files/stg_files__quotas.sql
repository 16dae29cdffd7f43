with source as (
    select * from {{ source('files', 'quotas') }}
)

select
    user_id,
    period_start,
    period_end,
    cast(quota_amount as {{ dbt.type_numeric() }}) as quota_amount,
    upper(currency) as currency
from source

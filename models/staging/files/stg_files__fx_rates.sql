with source as (
    select * from {{ source('files', 'fx_rates') }}
)

select
    upper(currency) as currency,
    rate_month,
    cast(rate as {{ crm_kpis.type_fx_rate() }}) as rate,
    _loaded_at as loaded_at
from source

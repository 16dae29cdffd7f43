{#- Deleted rows are dropped here; negative amounts and other defects are flagged downstream
    (int_opportunities_enriched) so the data-quality fact can count them. -#}
with source as (
    select * from {{ source('files', 'opportunities') }}
)

select
    opportunity_id,
    account_id,
    owner_id,
    lead_id,
    opportunity_name,
    opportunity_type,
    product_line,
    stage,
    cast(amount as {{ dbt.type_numeric() }}) as amount,
    upper(currency) as currency,
    probability,
    expected_close_date,
    created_at,
    closed_at,
    coalesce(is_closed, false) as is_closed,
    coalesce(is_won, false) as is_won,
    lost_reason,
    forecast_category,
    updated_at,
    _loaded_at as loaded_at
from source
where not coalesce(is_deleted, false)

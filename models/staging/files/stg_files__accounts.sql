with source as (
    select * from {{ source('files', 'accounts') }}
)

select
    account_id,
    account_name,
    industry,
    segment,
    upper(country) as country_code,
    owner_id,
    created_at,
    updated_at,
    _loaded_at as loaded_at
from source
where not coalesce(is_deleted, false)

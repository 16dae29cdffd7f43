with source as (
    select * from {{ source('files', 'users') }}
)

select
    cast(user_id as {{ dbt.type_string() }}) as user_id,
    full_name,
    email,
    team,
    region,
    manager_id,
    cast(hired_at as date) as hired_date,
    coalesce(is_active, true) as is_active,
    updated_at,
    _loaded_at as loaded_at
from source

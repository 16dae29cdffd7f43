{#- User in the shared shape; the team is the user's role name. Salesforce has no region or hire date. -#}
{%- set user = source('salesforce', 'user') %}

with users as (
    select * from {{ user }}
    where {{ crm_kpis.el_row_filter(user) }}
),

roles as (
    select * from {{ source('salesforce', 'user_role') }}
    where {{ crm_kpis.el_row_filter(source('salesforce', 'user_role')) }}
)

select
    cast(users.id as {{ dbt.type_string() }}) as user_id,
    cast(users.name as {{ dbt.type_string() }}) as full_name,
    cast(users.email as {{ dbt.type_string() }}) as email,
    cast(roles.name as {{ dbt.type_string() }}) as team,
    cast(null as {{ dbt.type_string() }}) as region,
    cast(users.manager_id as {{ dbt.type_string() }}) as manager_id,
    cast(null as date) as hired_date,
    coalesce({{ crm_kpis.to_boolean('users.is_active') }}, true) as is_active,
    coalesce(
        {{ crm_kpis.optional_column(user, 'last_modified_date', dbt.type_timestamp()) }},
        cast(users._fivetran_synced as {{ dbt.type_timestamp() }})
    ) as updated_at,
    cast(users._fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
from users
left join roles on users.user_role_id = roles.id

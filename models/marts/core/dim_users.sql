with users as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_users_unioned') }}
),

managers as (
    select user_id, full_name from {{ ref('int_users_unioned') }}
)

select
    users.user_id,
    users.full_name,
    users.email,
    users.team,
    users.region,
    users.manager_id,
    managers.full_name as manager_name,
    users.hired_date,
    users.is_active,
    users.source_system
from users
left join managers on users.manager_id = managers.user_id

with users as (
    select * from {{ ref('stg_crm__users') }}
),

managers as (
    select user_id, full_name from {{ ref('stg_crm__users') }}
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
    users.is_active
from users
left join managers on users.manager_id = managers.user_id

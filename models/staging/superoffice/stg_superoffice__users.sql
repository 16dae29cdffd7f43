{#- Employees (associate type 0) in the shared shape: name from their person row, team from their
    primary user group; retired users (deleted = 1) are inactive. -#}
with associate as (
    select * from {{ source('superoffice', 'associate') }}
    where type = 0
),

person as (
    select * from {{ source('superoffice', 'person') }}
),

usergroup as (
    select * from {{ source('superoffice', 'usergroup') }}
)

select
    cast(associate.associate_id as {{ dbt.type_string() }}) as user_id,
    coalesce(
        nullif(trim({{ dbt.concat(["coalesce(person.firstname, '')", "' '", "coalesce(person.lastname, '')"]) }}), ''),
        cast(associate.name as {{ dbt.type_string() }})
    ) as full_name,
    cast(null as {{ dbt.type_string() }}) as email,
    cast(usergroup.name as {{ dbt.type_string() }}) as team,
    cast(null as {{ dbt.type_string() }}) as region,
    cast(null as {{ dbt.type_string() }}) as manager_id,
    cast(null as date) as hired_date,
    coalesce(associate.deleted, 0) = 0 as is_active,
    cast(coalesce(associate.updated, associate.registered) as {{ dbt.type_timestamp() }}) as updated_at,
    cast(coalesce(associate.updated, associate.registered) as {{ dbt.type_timestamp() }}) as loaded_at
from associate
left join person on associate.person_id = person.person_id and associate.person_id <> 0
left join usergroup on associate.group_idx = usergroup.usergroup_id

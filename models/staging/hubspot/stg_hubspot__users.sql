{#- Owners in the shared shape; the team is the owner's primary team. -#}
{%- set owner = source('hubspot', 'owner') %}

with owner as (
    select * from {{ owner }}
    where {{ crm_kpis.el_row_filter(owner) }}
),

owner_team as (
    select * from {{ source('hubspot', 'owner_team') }}
    where coalesce({{ crm_kpis.to_boolean('is_team_primary') }}, true)
),

team as (
    select * from {{ source('hubspot', 'team') }}
),

primary_team as (
    select owner_team.owner_id, min(cast(team.name as {{ dbt.type_string() }})) as team
    from owner_team
    inner join team on owner_team.team_id = team.id
    group by owner_team.owner_id
)

select
    cast(owner.owner_id as {{ dbt.type_string() }}) as user_id,
    trim({{ dbt.concat(["coalesce(cast(owner.first_name as " ~ dbt.type_string() ~ "), '')", "' '",
                         "coalesce(cast(owner.last_name as " ~ dbt.type_string() ~ "), '')"]) }}) as full_name,
    cast(owner.email as {{ dbt.type_string() }}) as email,
    primary_team.team,
    cast(null as {{ dbt.type_string() }}) as region,
    cast(null as {{ dbt.type_string() }}) as manager_id,
    cast(null as date) as hired_date,
    coalesce({{ crm_kpis.to_boolean(crm_kpis.optional_column(owner, 'is_active', dbt.type_string())) }}, true) as is_active,
    cast(owner.updated_at as {{ dbt.type_timestamp() }}) as updated_at,
    {{ crm_kpis.optional_column(owner, '_fivetran_synced', dbt.type_timestamp()) }} as loaded_at
from owner
left join primary_team on owner.owner_id = primary_team.owner_id

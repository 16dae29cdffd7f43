{#- Soft-deleted companies and persons. Sales and follow-ups are deleted for good in SuperOffice,
    so they simply stop arriving. -#}
select
    'accounts' as table_name,
    cast(contact_id as {{ dbt.type_string() }}) as record_id,
    cast(coalesce(deleteddate, updated, registered) as {{ dbt.type_timestamp() }}) as loaded_at
from {{ source('superoffice', 'contact') }}
where coalesce(deleted, 0) <> 0 or deleteddate is not null
union all
select
    'leads' as table_name,
    cast(person_id as {{ dbt.type_string() }}) as record_id,
    cast(coalesce(deleteddate, updated, registered) as {{ dbt.type_timestamp() }}) as loaded_at
from {{ source('superoffice', 'person') }}
where deleteddate is not null

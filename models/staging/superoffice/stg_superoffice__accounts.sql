{#- Companies (contact) in the shared shape, without the database owner's own company and without
    deleted ones. The segment is the category name when it is SMB, Mid-Market or Enterprise (name
    your categories so, or map them in this model); industry is the business. -#}
with contact as (
    select * from {{ source('superoffice', 'contact') }}
),

owner_companies as (
    select contact_id from {{ source('superoffice', 'ownercontactlink') }}
),

business as (
    select * from {{ source('superoffice', 'business') }}
),

category as (
    select * from {{ source('superoffice', 'category') }}
),

country as (
    select * from {{ source('superoffice', 'country') }}
)

select
    cast(contact.contact_id as {{ dbt.type_string() }}) as account_id,
    cast(contact.name as {{ dbt.type_string() }}) as account_name,
    cast(business.name as {{ dbt.type_string() }}) as industry,
    case when category.name in ('SMB', 'Mid-Market', 'Enterprise') then cast(category.name as {{ dbt.type_string() }}) end as segment,
    upper(cast(country.abbrev2 as {{ dbt.type_string() }})) as country_code,
    {{ crm_kpis.key_or_null('contact.associate_id') }} as owner_id,
    cast(contact.registered as {{ dbt.type_timestamp() }}) as created_at,
    cast(coalesce(contact.updated, contact.registered) as {{ dbt.type_timestamp() }}) as updated_at,
    cast(coalesce(contact.updated, contact.registered) as {{ dbt.type_timestamp() }}) as loaded_at
from contact
left join business on contact.business_idx = business.business_id
left join category on contact.category_idx = category.category_id
left join country on contact.country_id = country.country_id
where coalesce(contact.deleted, 0) = 0
    and contact.deleteddate is null
    and contact.contact_id not in (select contact_id from owner_companies)

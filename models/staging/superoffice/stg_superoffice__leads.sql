{#- SuperOffice has no lead table: every contact person (not a user's own person row) is a lead,
    from when it was registered. It converted when the first sale naming it was registered, into that
    sale's company. SuperOffice keeps the source on the sale, not the person, so the lead source is
    unknown (other): lead KPIs by channel are not available from SuperOffice. -#}
with person as (
    select * from {{ source('superoffice', 'person') }}
    where deleteddate is null
),

user_persons as (
    select person_id from {{ source('superoffice', 'associate') }}
),

sale as (
    select * from {{ source('superoffice', 'sale') }}
),

first_sales as (
    select
        sale.person_id,
        sale.sale_id,
        sale.contact_id,
        sale.registered,
        coalesce(sale.updated, sale.registered) as sale_changed_at,
        row_number() over (partition by sale.person_id order by sale.registered, sale.sale_id) as sale_rank
    from sale
    where sale.person_id <> 0
)

select
    cast(person.person_id as {{ dbt.type_string() }}) as lead_id,
    cast(person.registered as {{ dbt.type_timestamp() }}) as created_at,
    cast(null as {{ dbt.type_string() }}) as source_value,
    'other' as lead_source,
    cast(null as {{ dbt.type_string() }}) as status,
    {{ crm_kpis.key_or_null('person.associate_id') }} as owner_id,
    cast(null as {{ dbt.type_string() }}) as company_name,
    cast(first_sales.registered as {{ dbt.type_timestamp() }}) as converted_at,
    {{ crm_kpis.key_or_null('first_sales.contact_id') }} as converted_account_id,
    cast(first_sales.sale_id as {{ dbt.type_string() }}) as converted_opportunity_id,
    cast(coalesce(person.updated, person.registered) as {{ dbt.type_timestamp() }}) as updated_at,
    -- the conversion comes from the first sale: its changes change the lead too
    cast(greatest(coalesce(person.updated, person.registered), first_sales.sale_changed_at) as {{ dbt.type_timestamp() }}) as loaded_at
from person
left join first_sales on person.person_id = first_sales.person_id and first_sales.sale_rank = 1
where person.person_id not in (select person_id from user_persons where person_id <> 0)

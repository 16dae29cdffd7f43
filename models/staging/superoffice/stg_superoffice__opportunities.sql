{#- Sales in the shared shape (macros superoffice_stage, superoffice_forecast_category). A closed
    sale's close time is its saledate, a local date-time of the base time zone; while open, saledate
    is the expected close. Amounts are in the sale's currency. -#}

with sale as (
    select * from {{ source('superoffice', 'sale') }}
),

prob as (
    select * from {{ source('superoffice', 'prob') }}
),

reason as (
    select * from {{ source('superoffice', 'reason') }}
),

currency as (
    select * from {{ source('superoffice', 'currency') }}
)

select
    cast(sale.sale_id as {{ dbt.type_string() }}) as opportunity_id,
    {{ crm_kpis.key_or_null('sale.contact_id') }} as account_id,
    {{ crm_kpis.key_or_null('sale.associate_id') }} as owner_id,
    {{ crm_kpis.key_or_null('sale.person_id') }} as lead_id,
    cast(sale.heading as {{ dbt.type_string() }}) as opportunity_name,
    cast(null as {{ dbt.type_string() }}) as opportunity_type,
    cast(null as {{ dbt.type_string() }}) as product_line,
    {{ crm_kpis.superoffice_stage('sale.status', 'prob.name') }} as stage,
    cast(sale.amount as {{ dbt.type_numeric() }}) as amount,
    upper(coalesce(cast(currency.isocode as {{ dbt.type_string() }}), {{ crm_kpis.default_currency('superoffice') }})) as currency,
    cast(sale.probability as {{ crm_kpis.type_double() }}) as probability,
    cast(sale.saledate as date) as expected_close_date,
    cast(sale.registered as {{ dbt.type_timestamp() }}) as created_at,
    case when sale.status in (2, 3) then {{ crm_kpis.superoffice_local_to_utc('sale.saledate') }} end as closed_at,
    sale.status in (2, 3) as is_closed,
    sale.status = 2 as is_won,
    cast(reason.name as {{ dbt.type_string() }}) as lost_reason,
    {{ crm_kpis.superoffice_forecast_category('sale.status') }} as forecast_category,
    cast(coalesce(sale.updated, sale.registered) as {{ dbt.type_timestamp() }}) as updated_at,
    cast(coalesce(sale.updated, sale.registered) as {{ dbt.type_timestamp() }}) as loaded_at
from sale
left join prob on sale.probability_idx = prob.prob_id and sale.probability_idx <> 0
left join reason on sale.reason_id = reason.reason_id and sale.reason_id <> 0
left join currency on sale.currency_id = currency.currency_id and sale.currency_id <> 0

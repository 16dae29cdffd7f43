{#- Monthly rates into the reporting currency. Seed and landed rates are quoted against one base
    (EUR in the shipped seed); a landed rate replaces the seed's for the same currency and month.
    Cross rates make any currency of the table the reporting currency: rate(c) / rate(reporting).
    The reporting currency is worth 1 in every calendar month, also months no rate table covers
    (a single-currency CRM needs no rates at all). -#}
with seed_rates as (
    select upper(currency) as currency, cast(rate_month as date) as rate_month, cast(rate as {{ dbt.type_numeric() }}) as rate
    from {{ ref('fx_rates') }}
),

landed_rates as (
    select currency, rate_month, rate from {{ ref('int_fx_rates_unioned') }}
),

combined as (
    select currency, rate_month, rate from landed_rates
    union all
    select seed_rates.currency, seed_rates.rate_month, seed_rates.rate
    from seed_rates
    left join landed_rates
        on seed_rates.currency = landed_rates.currency and seed_rates.rate_month = landed_rates.rate_month
    where landed_rates.currency is null
),

months as (
    select month_start as rate_month
    from {{ ref('dim_date') }}
    where date_day = month_start
),

reporting as (
    select rate_month, rate as reporting_rate
    from combined
    where currency = '{{ var("reporting_currency") }}'
)

select
    combined.currency,
    combined.rate_month,
    combined.rate / reporting.reporting_rate as rate_to_reporting
from combined
inner join reporting on combined.rate_month = reporting.rate_month
union all
select
    '{{ var("reporting_currency") }}' as currency,
    months.rate_month,
    cast(1 as {{ dbt.type_numeric() }}) as rate_to_reporting
from months
left join reporting on months.rate_month = reporting.rate_month
where reporting.rate_month is null

{#- Monthly rates into the reporting currency. Seed and landed rates are quoted against one base
    (EUR in the shipped seed); a landed rate replaces the seed's for the same currency and month.
    Cross rates make any currency of the table the reporting currency: rate(c) / rate(reporting).
    The reporting currency is worth 1 in every calendar month, also months no rate table covers
    (a single-currency CRM needs no rates at all).

    The cross rate is an exact decimal(28,12) on every engine, so every converted amount is exact too.
    Against a base rate of 1 (the seed's own base) it is the landed or seeded rate itself; otherwise
    it is rounded to 12 decimals (DuckDB divides decimals as doubles, which is exact to ~16 digits).

    loaded_at: the newest landing behind a cross rate (its own landed rate's and the reporting currency's
    of the month); NULL where both come from the seed, which changes only with a release (a full refresh). -#}
{%- set narrow = api.Column.numeric_type('numeric', 20, 12) %}

with seed_rates as (
    select
        upper(currency) as currency,
        cast(rate_month as date) as rate_month,
        cast(rate as {{ crm_kpis.type_fx_rate() }}) as rate,
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at
    from {{ ref('fx_rates') }}
),

landed_rates as (
    select currency, rate_month, rate, loaded_at from {{ ref('int_fx_rates_unioned') }}
),

combined as (
    select currency, rate_month, rate, loaded_at from landed_rates
    union all
    select seed_rates.currency, seed_rates.rate_month, seed_rates.rate, seed_rates.loaded_at
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
    select rate_month, rate as reporting_rate, loaded_at as reporting_loaded_at
    from combined
    where currency = '{{ var("reporting_currency") }}'
)

select
    combined.currency,
    combined.rate_month,
    case
        when reporting.reporting_rate = 1 then combined.rate
        -- decimal(20,12) operands: Spark keeps 18 decimals of their quotient, of decimal(28,12) ones only 10
        else cast(cast(combined.rate as {{ narrow }}) / cast(reporting.reporting_rate as {{ narrow }}) as {{ crm_kpis.type_fx_rate() }})
    end as rate_to_reporting,
    greatest(combined.loaded_at, reporting.reporting_loaded_at) as loaded_at
from combined
inner join reporting on combined.rate_month = reporting.rate_month
union all
select
    '{{ var("reporting_currency") }}' as currency,
    months.rate_month,
    cast(1 as {{ crm_kpis.type_fx_rate() }}) as rate_to_reporting,
    cast(null as {{ dbt.type_timestamp() }}) as loaded_at
from months
left join reporting on months.rate_month = reporting.rate_month
where reporting.rate_month is null

{#- KPI 13, quota attainment: defined in models/docs/kpi_definitions.md (doc `fct_kpi_quota_attainment`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with quotas as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_quotas_unioned') }}
),

opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_won
),

users as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_users') }}
),

fx_rates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_fx_rates_monthly') }}
),

bookings as (
    select
        quotas.user_id,
        quotas.period_start,
        count(opportunities.opportunity_id) as won_count,
        {{ crm_kpis.to_money('coalesce(sum(opportunities.amount_reporting), 0)') }} as bookings
    from quotas
    left join opportunities
        on quotas.user_id = opportunities.owner_id
        and opportunities.close_date >= quotas.period_start
        and opportunities.close_date <= quotas.period_end
    group by quotas.user_id, quotas.period_start
),

measured as (
    select
        quotas.user_id,
        quotas.period_start,
        quotas.period_end,
        coalesce(users.team, 'unknown') as team,
        coalesce(users.region, 'unknown') as region,
        quotas.quota_amount as quota_amount_original,
        quotas.currency as quota_currency,
        {{ crm_kpis.to_money('quotas.quota_amount * fx_rates.rate_to_reporting') }} as quota_amount,
        bookings.won_count,
        bookings.bookings,
        {{ crm_kpis.as_of_date() }} >= quotas.period_start and {{ crm_kpis.as_of_date() }} <= quotas.period_end as is_current_period,
        {{ crm_kpis.safe_divide(dbt.datediff('quotas.period_start', crm_kpis.as_of_date(), 'day') ~ ' + 1',
            dbt.datediff('quotas.period_start', 'quotas.period_end', 'day') ~ ' + 1') }} as share_of_period_elapsed
    from quotas
    inner join bookings
        on quotas.user_id = bookings.user_id
        and quotas.period_start = bookings.period_start
    left join users on quotas.user_id = users.user_id
    left join fx_rates
        on quotas.currency = fx_rates.currency
        and cast({{ dbt.date_trunc('month', 'quotas.period_start') }} as date) = fx_rates.rate_month
)

select
    user_id,
    period_start,
    period_end,
    team,
    region,
    quota_amount_original,
    quota_currency,
    quota_amount,
    won_count,
    bookings,
    {{ crm_kpis.safe_divide('bookings', 'quota_amount') }} as attainment,
    case when bookings >= quota_amount and quota_amount > 0 then 1 else 0 end as is_attained,
    is_current_period,
    case when is_current_period then share_of_period_elapsed end as share_of_period_elapsed,
    case when is_current_period then
        {{ crm_kpis.safe_divide('bookings', 'quota_amount') }} / nullif(share_of_period_elapsed, 0)
    end as pace,
    '{{ var("reporting_currency") }}' as reporting_currency
from measured

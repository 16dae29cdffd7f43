{#- KPI 14. Customer acquisition cost per month and quarter. New customers = accounts whose first won
    opportunity closed in the period. Company rows (scope 'company', channel 'all'): CAC =
    (marketing + sales spend) / new customers. Channel rows (scope 'channel'): channel CAC = that
    channel's marketing spend / new customers whose first won deal came from a lead of that channel
    (customers without a lead are only in the company rows: no channel spend belongs to them).
    CAC payback months = CAC / average MRR of those new customers at the end of their first-won month.
    Spend and new customers add up across months into quarters (the quarter rows are that sum).
    Spend is unknown (NULL, and so is CAC) for a month without a single spend row: a source without
    spend data (the CRM adapters) or a month the spend files do not cover must not read as free. -#}
with spend as (
    select * from {{ ref('int_acquisition_spend_unioned') }}
),

first_won as (
    select * from {{ ref('int_account_first_won') }}
),

account_mrr as (
    select * from {{ ref('int_mrr_account_months') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_monthly') }}
),

spend_by_month as (
    select
        cast({{ dbt.date_trunc('month', 'spend.spend_month') }} as date) as period_month,
        coalesce(spend.channel, 'none') as channel,
        sum(case when spend.cost_type = 'marketing' then {{ crm_kpis.to_money('spend.amount * fx_rates.rate_to_reporting') }} else 0 end) as marketing_spend,
        sum(case when spend.cost_type = 'sales' then {{ crm_kpis.to_money('spend.amount * fx_rates.rate_to_reporting') }} else 0 end) as sales_spend
    from spend
    left join fx_rates
        on spend.currency = fx_rates.currency
        and cast({{ dbt.date_trunc('month', 'spend.spend_month') }} as date) = fx_rates.rate_month
    group by 1, 2
),

spend_months as (
    select distinct period_month from spend_by_month
),

new_customers_by_month as (
    select
        first_won.first_won_month as period_month,
        first_won.originating_lead_source as channel,
        count(*) as new_customers,
        sum(coalesce(account_mrr.mrr, 0)) as new_customer_mrr
    from first_won
    left join account_mrr
        on first_won.account_id = account_mrr.account_id
        and first_won.first_won_month = account_mrr.month_start
    group by 1, 2
),

channel_months as (
    select
        coalesce(spend_by_month.period_month, new_customers_by_month.period_month) as period_month,
        coalesce(spend_by_month.channel, new_customers_by_month.channel) as channel,
        case when spend_months.period_month is not null then coalesce(spend_by_month.marketing_spend, 0) end as marketing_spend,
        case when spend_months.period_month is not null then coalesce(spend_by_month.sales_spend, 0) end as sales_spend,
        coalesce(new_customers_by_month.new_customers, 0) as new_customers,
        coalesce(new_customers_by_month.new_customer_mrr, 0) as new_customer_mrr
    from spend_by_month
    full outer join new_customers_by_month
        on spend_by_month.period_month = new_customers_by_month.period_month
        and spend_by_month.channel = new_customers_by_month.channel
    left join spend_months
        on coalesce(spend_by_month.period_month, new_customers_by_month.period_month) = spend_months.period_month
),

by_period as (
    select 'month' as period_grain, period_month as period_start, channel_months.*
    from channel_months
    union all
    select 'quarter' as period_grain, cast({{ dbt.date_trunc('quarter', 'period_month') }} as date) as period_start, channel_months.*
    from channel_months
),

by_scope as (
    select
        'company' as scope,
        period_grain,
        period_start,
        'all' as channel,
        {{ crm_kpis.sum_if_complete('marketing_spend') }} as marketing_spend,
        {{ crm_kpis.sum_if_complete('sales_spend') }} as sales_spend,
        {{ crm_kpis.sum_if_complete('marketing_spend') }} + {{ crm_kpis.sum_if_complete('sales_spend') }} as acquisition_spend,
        {{ crm_kpis.to_count('sum(new_customers)') }} as new_customers,
        sum(new_customer_mrr) as new_customer_mrr
    from by_period
    group by period_grain, period_start
    union all
    select
        'channel' as scope,
        period_grain,
        period_start,
        channel,
        {{ crm_kpis.sum_if_complete('marketing_spend') }},
        case when count(marketing_spend) = count(*) then 0 end,
        {{ crm_kpis.sum_if_complete('marketing_spend') }},
        {{ crm_kpis.to_count('sum(new_customers)') }},
        sum(new_customer_mrr)
    from by_period
    where channel <> 'none'
    group by period_grain, period_start, channel
)

select
    scope,
    period_grain,
    period_start,
    channel,
    {{ crm_kpis.to_money('marketing_spend') }} as marketing_spend,
    {{ crm_kpis.to_money('sales_spend') }} as sales_spend,
    {{ crm_kpis.to_money('acquisition_spend') }} as acquisition_spend,
    new_customers,
    {{ crm_kpis.safe_divide('acquisition_spend', 'new_customers') }} as cac,
    {{ crm_kpis.to_money('new_customer_mrr') }} as new_customer_mrr,
    {{ crm_kpis.safe_divide('new_customer_mrr', 'new_customers') }} as average_new_customer_mrr,
    {{ crm_kpis.safe_divide(crm_kpis.safe_divide('acquisition_spend', 'new_customers'), crm_kpis.safe_divide('new_customer_mrr', 'new_customers')) }} as cac_payback_months,
    '{{ var("reporting_currency") }}' as reporting_currency
from by_scope

{#- KPI 14, customer acquisition cost: defined in models/docs/kpi_definitions.md (doc `fct_kpi_customer_acquisition_cost`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with spend as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_acquisition_spend_unioned') }}
),

first_won as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_account_first_won') }}
),

account_mrr as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_mrr_account_months') }}
),

fx_rates as {{ crm_kpis.not_materialized() }} (
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
    group by cast({{ dbt.date_trunc('month', 'spend.spend_month') }} as date), coalesce(spend.channel, 'none')
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
    group by first_won.first_won_month, first_won.originating_lead_source
),

data_months as (
    select period_month from spend_by_month
    union
    select period_month from new_customers_by_month
),

month_range as (
    select
        cast({{ dbt.date_trunc('quarter', 'min(period_month)') }} as date) as first_month,
        max(period_month) as last_data_month
    from data_months
),

months as (
    select calendar.period_start as period_month
    from {{ ref('int_reporting_periods') }} as calendar
    inner join month_range
        on calendar.period_start >= month_range.first_month
        and calendar.period_start <= greatest(month_range.last_data_month,
            cast({{ dbt.date_trunc('month', crm_kpis.as_of_date()) }} as date))
    where calendar.period_grain = 'month'
    union
    -- a month outside dim_date's calendar (var calendar_start) keeps its row
    select period_month from data_months
),

channels as (
    select channel from spend_by_month
    where channel <> 'none'
    union
    select channel from new_customers_by_month
    where channel <> 'none'
),

-- 'none' holds sales cost and customers without a lead: company rows only
month_channels as (
    select months.period_month, channels.channel
    from months
    cross join channels
    union all
    select period_month, 'none' as channel
    from months
),

channel_months as (
    select
        month_channels.period_month,
        month_channels.channel,
        case when spend_months.period_month is not null then coalesce(spend_by_month.marketing_spend, 0) end as marketing_spend,
        case when spend_months.period_month is not null then coalesce(spend_by_month.sales_spend, 0) end as sales_spend,
        coalesce(new_customers_by_month.new_customers, 0) as new_customers,
        coalesce(new_customers_by_month.new_customer_mrr, 0) as new_customer_mrr
    from month_channels
    left join spend_by_month
        on month_channels.period_month = spend_by_month.period_month
        and month_channels.channel = spend_by_month.channel
    left join new_customers_by_month
        on month_channels.period_month = new_customers_by_month.period_month
        and month_channels.channel = new_customers_by_month.channel
    left join spend_months
        on month_channels.period_month = spend_months.period_month
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

{#- Who is a customer at the end of each month: accounts with MRR > 0 on the month's last day; where
    no subscriptions exist at all, accounts with a won deal closed in the trailing 12 months
    (month_end - 12 months < close date <= month_end), with mrr NULL. Grain: account_id x month_start. -#}
with account_mrr as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_mrr_account_months') }}
),

won as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_won and account_id is not null
),

dates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_date') }}
),

subscription_presence as (
    select count(*) as subscription_count from {{ ref('int_subscriptions_unioned') }}
),

months as (
    select month_start, month_end
    from dates
    where date_day = month_start
        and month_start >= (select min(won.close_month) from won)
        and month_start <= cast({{ dbt.date_trunc('month', crm_kpis.as_of_date()) }} as date)
),

subscription_customers as (
    select account_id, month_start, mrr
    from account_mrr
    where mrr > 0
),

recent_won_customers as (
    select distinct
        won.account_id,
        months.month_start,
        cast(null as {{ dbt.type_numeric() }}) as mrr
    from months
    inner join won
        on won.close_date <= months.month_end
        and won.close_date > cast({{ dbt.dateadd('month', -12, 'months.month_end') }} as date)
    where (select subscription_presence.subscription_count from subscription_presence) = 0
)

select account_id, month_start, mrr, 'subscriptions' as customer_basis from subscription_customers
union all
select account_id, month_start, mrr, 'won_deal_trailing_12_months' as customer_basis from recent_won_customers

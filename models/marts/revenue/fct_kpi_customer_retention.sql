{#- KPI 12, customer retention: defined in models/docs/kpi_definitions.md (doc `fct_kpi_customer_retention`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with customer_months as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_customer_months') }}
),

accounts as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_accounts') }}
),

periods as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_reporting_periods') }}
),

measurable_periods as (
    select
        periods.period_grain,
        periods.period_start,
        periods.last_month_start as end_month,
        cast({{ dbt.dateadd('month', -1, 'periods.period_start') }} as date) as start_month
    from periods
    where cast({{ dbt.dateadd('month', -1, 'periods.period_start') }} as date) >= (select min(customer_months.month_start) from customer_months)
        and periods.last_month_start <= (select max(customer_months.month_start) from customer_months)
),

at_start as (
    select measurable_periods.period_grain, measurable_periods.period_start, customer_months.account_id, customer_months.mrr
    from measurable_periods
    inner join customer_months on customer_months.month_start = measurable_periods.start_month
),

at_end as (
    select measurable_periods.period_grain, measurable_periods.period_start, customer_months.account_id, customer_months.mrr
    from measurable_periods
    inner join customer_months on customer_months.month_start = measurable_periods.end_month
),

customer_periods as (
    select
        coalesce(at_start.period_grain, at_end.period_grain) as period_grain,
        coalesce(at_start.period_start, at_end.period_start) as period_start,
        coalesce(at_start.account_id, at_end.account_id) as account_id,
        at_start.account_id is not null as is_customer_at_start,
        at_end.account_id is not null as is_customer_at_end,
        at_start.mrr as start_mrr,
        at_end.mrr as end_mrr
    from at_start
    full outer join at_end
        on at_start.period_grain = at_end.period_grain
        and at_start.period_start = at_end.period_start
        and at_start.account_id = at_end.account_id
),

counted as (
    select
        customer_periods.period_grain,
        customer_periods.period_start,
        coalesce(accounts.segment, 'unknown') as segment,
        sum(case when customer_periods.is_customer_at_start then 1 else 0 end) as customers_start,
        sum(case when customer_periods.is_customer_at_end then 1 else 0 end) as customers_end,
        sum(case when customer_periods.is_customer_at_end and not customer_periods.is_customer_at_start then 1 else 0 end) as new_customers,
        sum(case when customer_periods.is_customer_at_start and customer_periods.is_customer_at_end then 1 else 0 end) as retained_customers,
        sum(case when customer_periods.is_customer_at_start and not customer_periods.is_customer_at_end then 1 else 0 end) as churned_customers,
        {{ crm_kpis.to_money('sum(case when is_customer_at_start then start_mrr end)') }} as start_mrr,
        {{ crm_kpis.to_money('sum(case when is_customer_at_start then
            case when coalesce(end_mrr, 0) < start_mrr then coalesce(end_mrr, 0) else start_mrr end end)') }} as retained_mrr_capped,
        {{ crm_kpis.to_money('sum(case when is_customer_at_start then coalesce(end_mrr, 0) end)') }} as start_customers_end_mrr
    from customer_periods
    left join accounts on customer_periods.account_id = accounts.account_id
    group by customer_periods.period_grain, customer_periods.period_start, coalesce(accounts.segment, 'unknown')
)

select
    period_grain,
    period_start,
    segment,
    customers_start,
    customers_end,
    new_customers,
    retained_customers,
    churned_customers,
    {{ crm_kpis.safe_divide('customers_end - new_customers', 'customers_start') }} as retention_rate,
    {{ crm_kpis.safe_divide('churned_customers', 'customers_start') }} as logo_churn_rate,
    start_mrr,
    retained_mrr_capped,
    start_customers_end_mrr,
    {{ crm_kpis.safe_divide('retained_mrr_capped', 'start_mrr') }} as gross_revenue_retention,
    {{ crm_kpis.safe_divide('start_customers_end_mrr', 'start_mrr') }} as net_revenue_retention
from counted

{#- Insight 5. Do engaged customers stay? For each quarter, the customers at its start (as in
    fct_kpi_customer_retention: MRR > 0 at the end of the month before, else a won deal in the
    trailing 12 months) by how the account was worked in the quarter before (completed activities
    with the account, business time zone): no_contact, touches_only (emails, tasks, no conversation),
    quarterly_check_in (1-2 calls or meetings), monthly_check_in (3 or more). Retained = still a
    customer at the end of the quarter. Retention and churn with the Wilson interval, and gross and net
    revenue retention from the start customers' MRR. Grain: period_start x owner_id (account owner) x
    segment x cadence. Counts and MRR add up; divide after summing. -#}
with customer_months as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_customer_months') }}
),

accounts as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_accounts') }}
),

quarters as (
    select
        period_start,
        last_month_start as end_month,
        cast({{ dbt.dateadd('month', -1, 'period_start') }} as date) as start_month,
        cast({{ dbt.dateadd('month', -3, 'period_start') }} as date) as prior_quarter_start
    from {{ ref('int_reporting_periods') }}
    where period_grain = 'quarter'
        and cast({{ dbt.dateadd('month', -1, 'period_start') }} as date) >= (select min(customer_months.month_start) from customer_months)
        and last_month_start <= (select max(customer_months.month_start) from customer_months)
),

start_customers as (
    select quarters.period_start, quarters.prior_quarter_start, customer_months.account_id, customer_months.mrr as start_mrr
    from quarters
    inner join customer_months on customer_months.month_start = quarters.start_month
),

end_customers as (
    select quarters.period_start, customer_months.account_id, customer_months.mrr as end_mrr
    from quarters
    inner join customer_months on customer_months.month_start = quarters.end_month
),

{# Each activity counted once, in the calendar quarter it fell in: a quarter's start customers read the quarter
    before theirs by key. A range join of every activity with each quarter its account was a customer at the start
    of multiplied the 50M activities of 10M opportunities by the quarters. #}
activity_quarters as (
    select
        account_id,
        cast({{ dbt.date_trunc('quarter', 'occurred_month') }} as date) as engagement_quarter_start,
        count(*) as touch_count,
        sum(case when activity_type in ('call', 'meeting') then 1 else 0 end) as check_in_count
    from {{ ref('int_activities_enriched') }}
    where not is_tombstone and is_completed and account_id is not null
    group by account_id, cast({{ dbt.date_trunc('quarter', 'occurred_month') }} as date)
),

customers as (
    select
        start_customers.period_start,
        start_customers.account_id,
        coalesce(accounts.owner_id, 'unassigned') as owner_id,
        coalesce(accounts.segment, 'unknown') as segment,
        coalesce(activity_quarters.touch_count, 0) as touch_count,
        coalesce(activity_quarters.check_in_count, 0) as check_in_count,
        end_customers.account_id is not null as is_retained,
        start_customers.start_mrr,
        end_customers.end_mrr
    from start_customers
    left join end_customers
        on start_customers.period_start = end_customers.period_start
        and start_customers.account_id = end_customers.account_id
    left join activity_quarters
        on start_customers.account_id = activity_quarters.account_id
        and start_customers.prior_quarter_start = activity_quarters.engagement_quarter_start
    left join accounts on start_customers.account_id = accounts.account_id
),

classified as (
    select
        customers.*,
        case
            when touch_count = 0 then 'no_contact'
            when check_in_count = 0 then 'touches_only'
            when check_in_count <= 2 then 'quarterly_check_in'
            else 'monthly_check_in'
        end as cadence,
        case
            when touch_count = 0 then 1
            when check_in_count = 0 then 2
            when check_in_count <= 2 then 3
            else 4
        end as cadence_order
    from customers
),

counted as (
    select
        period_start,
        owner_id,
        segment,
        cadence,
        min(cadence_order) as cadence_order,
        count(*) as customers_start,
        sum(case when is_retained then 1 else 0 end) as retained_customers,
        sum(touch_count) as touch_count,
        sum(check_in_count) as check_in_count,
        {{ crm_kpis.to_money('sum(start_mrr)') }} as start_mrr,
        {{ crm_kpis.to_money('sum(case when coalesce(end_mrr, 0) < start_mrr then coalesce(end_mrr, 0) else start_mrr end)') }} as retained_mrr_capped,
        {{ crm_kpis.to_money('sum(case when start_mrr is not null then coalesce(end_mrr, 0) end)') }} as start_customers_end_mrr
    from classified
    group by period_start, owner_id, segment, cadence
)

select
    period_start,
    cast({{ dbt.dateadd('month', -3, 'period_start') }} as date) as engagement_quarter_start,
    owner_id,
    segment,
    cadence,
    cadence_order,
    {{ crm_kpis.count_of('customers_start') }} as customers_start,
    {{ crm_kpis.count_of('retained_customers') }} as retained_customers,
    {{ crm_kpis.count_of('customers_start - retained_customers') }} as churned_customers,
    {{ crm_kpis.rate_with_interval('retained_customers', 'customers_start', 'retention_rate') }},
    {{ crm_kpis.ratio('customers_start - retained_customers', 'customers_start') }} as logo_churn_rate,
    {{ crm_kpis.count_of('touch_count') }} as touch_count,
    {{ crm_kpis.count_of('check_in_count') }} as check_in_count,
    start_mrr,
    retained_mrr_capped,
    start_customers_end_mrr,
    {{ crm_kpis.ratio('retained_mrr_capped', 'start_mrr') }} as gross_revenue_retention,
    {{ crm_kpis.ratio('start_customers_end_mrr', 'start_mrr') }} as net_revenue_retention
from counted

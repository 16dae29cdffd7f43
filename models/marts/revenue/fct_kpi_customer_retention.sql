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

segmented_customers as (
    select
        customer_months.account_id,
        customer_months.month_start,
        customer_months.mrr,
        coalesce(accounts.segment, 'unknown') as segment
    from customer_months
    left join accounts on customer_months.account_id = accounts.account_id
),

{# A period's customers are those at two boundary months of its grain: the month before it and its last month.
    Consecutive periods share a boundary, so each customer at a boundary is counted there once, with whether the
    same account is a customer at the boundary before and at the one after (a window over each account's
    boundaries), and each period reads its two boundaries' counts. A join of two copies of every customer-month,
    one per side, spilled under the memory cap at 10M opportunities (27 s against 18 s). #}
boundaries as (
    select period_grain, start_month as boundary_month from measurable_periods
    union
    select period_grain, end_month as boundary_month from measurable_periods
),

neighbouring_boundaries as (
    select
        period_grain,
        boundary_month,
        lag(boundary_month) over (partition by period_grain order by boundary_month) as previous_boundary_month,
        lead(boundary_month) over (partition by period_grain order by boundary_month) as next_boundary_month
    from boundaries
),

customers_at_boundaries as (
    select
        neighbouring_boundaries.period_grain,
        neighbouring_boundaries.boundary_month,
        segmented_customers.segment,
        segmented_customers.mrr,
        lag(neighbouring_boundaries.boundary_month) over account_boundaries
            = neighbouring_boundaries.previous_boundary_month as is_customer_before,
        lead(neighbouring_boundaries.boundary_month) over account_boundaries
            = neighbouring_boundaries.next_boundary_month as is_customer_after,
        lead(segmented_customers.mrr) over account_boundaries as next_mrr
    from neighbouring_boundaries
    inner join segmented_customers on neighbouring_boundaries.boundary_month = segmented_customers.month_start
    window account_boundaries as (
        partition by neighbouring_boundaries.period_grain, segmented_customers.account_id
        order by neighbouring_boundaries.boundary_month
    )
),

boundary_counts as (
    select
        period_grain,
        boundary_month,
        segment,
        sum(1) as customers,
        sum(case when is_customer_before then 0 else 1 end) as customers_not_before,
        sum(case when is_customer_after then 1 else 0 end) as customers_after,
        sum(case when is_customer_after then 0 else 1 end) as customers_not_after,
        sum(mrr) as mrr,
        -- each customer's MRR at the next boundary (0 when it is no customer there), capped at its MRR here
        sum(case when coalesce(case when is_customer_after then next_mrr end, 0) < mrr
            then coalesce(case when is_customer_after then next_mrr end, 0) else mrr end) as mrr_after_capped,
        sum(coalesce(case when is_customer_after then next_mrr end, 0)) as mrr_after
    from customers_at_boundaries
    group by period_grain, boundary_month, segment
),

{%- for side, month in [('start', 'start_month'), ('end', 'end_month')] %}

{{ side }}_counts as (
    select
        measurable_periods.period_grain,
        measurable_periods.period_start,
        boundary_counts.segment,
        boundary_counts.customers,
        boundary_counts.customers_not_before,
        boundary_counts.customers_after,
        boundary_counts.customers_not_after,
        boundary_counts.mrr,
        boundary_counts.mrr_after_capped,
        boundary_counts.mrr_after
    from measurable_periods
    inner join boundary_counts
        on measurable_periods.period_grain = boundary_counts.period_grain
        and measurable_periods.{{ month }} = boundary_counts.boundary_month
),
{%- endfor %}

counted as (
    select
        coalesce(start_counts.period_grain, end_counts.period_grain) as period_grain,
        coalesce(start_counts.period_start, end_counts.period_start) as period_start,
        coalesce(start_counts.segment, end_counts.segment) as segment,
        coalesce(start_counts.customers, 0) as customers_start,
        coalesce(end_counts.customers, 0) as customers_end,
        coalesce(end_counts.customers_not_before, 0) as new_customers,
        coalesce(start_counts.customers_after, 0) as retained_customers,
        coalesce(start_counts.customers_not_after, 0) as churned_customers,
        {{ crm_kpis.to_money('start_counts.mrr') }} as start_mrr,
        {{ crm_kpis.to_money('start_counts.mrr_after_capped') }} as retained_mrr_capped,
        {{ crm_kpis.to_money('start_counts.mrr_after') }} as start_customers_end_mrr
    from start_counts
    full outer join end_counts
        on start_counts.period_grain = end_counts.period_grain
        and start_counts.period_start = end_counts.period_start
        and start_counts.segment = end_counts.segment
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

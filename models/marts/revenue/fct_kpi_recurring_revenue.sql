{#- KPI 11, recurring revenue: defined in models/docs/kpi_definitions.md (doc `fct_kpi_recurring_revenue`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with account_months as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_mrr_account_months') }}
),

accounts as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_accounts') }}
)

select
    account_months.month_start as period_month,
    coalesce(accounts.segment, 'unknown') as segment,
    {{ crm_kpis.to_money('sum(account_months.previous_mrr)') }} as opening_mrr,
    {{ crm_kpis.to_money('sum(account_months.new_mrr)') }} as new_mrr,
    {{ crm_kpis.to_money('sum(account_months.reactivation_mrr)') }} as reactivation_mrr,
    {{ crm_kpis.to_money('sum(account_months.expansion_mrr)') }} as expansion_mrr,
    {{ crm_kpis.to_money('sum(account_months.contraction_mrr)') }} as contraction_mrr,
    {{ crm_kpis.to_money('sum(account_months.churned_mrr)') }} as churned_mrr,
    {{ crm_kpis.to_money('sum(account_months.fx_mrr)') }} as fx_mrr,
    {{ crm_kpis.to_money('sum(account_months.mrr)') }} as mrr,
    {{ crm_kpis.to_money('sum(account_months.arr)') }} as arr,
    sum(case when account_months.mrr > 0 then 1 else 0 end) as paying_accounts,
    sum(case when account_months.movement_type = 'new' then 1 else 0 end) as new_accounts,
    sum(case when account_months.movement_type = 'churn' then 1 else 0 end) as churned_accounts,
    '{{ var("reporting_currency") }}' as reporting_currency
from account_months
left join accounts on account_months.account_id = accounts.account_id
group by account_months.month_start, coalesce(accounts.segment, 'unknown')

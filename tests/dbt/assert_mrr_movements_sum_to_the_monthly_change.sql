{#- kpis.md 11: the MRR movements (new, reactivation, expansion, contraction, churn, and fx for
    currency moves) sum to the month-over-month change of MRR. -#}
with months as (
    select
        period_month,
        sum(opening_mrr) as opening_mrr,
        sum(mrr) as closing_mrr,
        sum(new_mrr + reactivation_mrr + expansion_mrr + contraction_mrr + churned_mrr + fx_mrr) as movements
    from {{ ref('fct_kpi_recurring_revenue') }}
    group by period_month
)

select period_month, opening_mrr, closing_mrr, movements
from months
where abs(closing_mrr - opening_mrr - movements) > 0.005

{#- KPI 5, lead-to-customer rate: defined in models/docs/kpi_definitions.md (doc `fct_kpi_lead_to_customer`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with leads as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_lead_conversions') }}
)

select
    cohort_month as period_month,
    lead_source,
    count(*) as lead_count,
    sum(case when is_customer then 1 else 0 end) as customer_count,
    {{ crm_kpis.safe_divide('sum(case when is_customer then 1 else 0 end)', 'count(*)') }} as lead_to_customer_rate
from leads
group by cohort_month, lead_source

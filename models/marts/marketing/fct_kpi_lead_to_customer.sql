{#- KPI 5. Lead-to-customer rate. Cohort = leads created in the month; customers = leads whose
    opportunity is won and KPI-eligible, as of the build: the converted opportunity, else the first
    eligible one naming the lead, else (naming only an account) the account's first eligible one; see
    int_lead_conversions. Roll up by summing the counts. -#}
with leads as (
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

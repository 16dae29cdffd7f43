{#- KPI 4, lead-to-opportunity rate: defined in models/docs/kpi_definitions.md (doc `fct_kpi_lead_conversion`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with leads as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_lead_conversions') }}
)

select
    cohort_month as period_month,
    lead_source,
    coalesce(owner_id, 'unassigned') as owner_id,
    count(*) as lead_count,
    sum(case when is_converted then 1 else 0 end) as converted_count,
    sum(case when is_converted_within_30_days then 1 else 0 end) as converted_within_30_days_count,
    sum(case when is_converted_within_90_days then 1 else 0 end) as converted_within_90_days_count,
    {{ crm_kpis.safe_divide('sum(case when is_converted then 1 else 0 end)', 'count(*)') }} as conversion_rate,
    {{ crm_kpis.safe_divide('sum(case when is_converted_within_30_days then 1 else 0 end)', 'count(*)') }} as conversion_rate_30_days,
    {{ crm_kpis.safe_divide('sum(case when is_converted_within_90_days then 1 else 0 end)', 'count(*)') }} as conversion_rate_90_days,
    {{ crm_kpis.to_ratio('percentile_cont(0.5) within group (order by days_to_convert)') }} as days_to_convert_median
from leads
group by cohort_month, lead_source, coalesce(owner_id, 'unassigned')

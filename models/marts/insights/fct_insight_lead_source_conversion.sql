{#- Insight 7. Which channel converts, and how sure is that? Lead cohorts (leads created in the month,
    business time zone) by source and owner, as fct_kpi_lead_conversion and fct_kpi_lead_to_customer
    count them, with the Wilson interval beside each rate: a channel with 3 leads and 2 conversions
    has a rate of 67 % but an interval of roughly 21-94 %. Grain: period_month x lead_source x
    owner_id. Sum the counts for any roll-up, then divide; the interval of a roll-up comes from the
    summed counts (the dashboard and docs/kpis.md do so), never from averaging intervals. -#}
with leads as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_lead_conversions') }}
),

counted as (
    select
        cohort_month as period_month,
        lead_source,
        coalesce(owner_id, 'unassigned') as owner_id,
        count(*) as lead_count,
        sum(case when is_converted then 1 else 0 end) as converted_count,
        sum(case when is_customer then 1 else 0 end) as customer_count
    from leads
    group by cohort_month, lead_source, coalesce(owner_id, 'unassigned')
)

select
    period_month,
    lead_source,
    owner_id,
    {{ crm_kpis.count_of('lead_count') }} as lead_count,
    {{ crm_kpis.count_of('converted_count') }} as converted_count,
    {{ crm_kpis.count_of('customer_count') }} as customer_count,
    {{ crm_kpis.rate_with_interval('converted_count', 'lead_count', 'conversion_rate') }},
    {{ crm_kpis.rate_with_interval('customer_count', 'lead_count', 'lead_to_customer_rate') }}
from counted

{#- KPI 7, average deal size: defined in models/docs/kpi_definitions.md (doc `fct_kpi_average_deal_size`), the one home
    of its definition (also rendered into docs/kpis.md).

    Incremental by period_month: a nightly build rebuilds the months its deals' changes touch (affected_months,
    macros/incremental.sql). -#}
{{ config(**crm_kpis.deal_month_fact_config('close_month')) }}
-- depends_on: {{ ref('int_opportunity_month_versions') }}

with won as (
    select * from ({{ crm_kpis.deals_in_affected_months(ref('int_opportunities_enriched'), 'close_month') }}) as deals
    where is_kpi_eligible and is_won
)

select
    close_month as period_month,
    owner_id,
    coalesce(segment, 'unknown') as segment,
    coalesce(industry, 'unknown') as industry,
    coalesce(product_line, 'unknown') as product_line,
    count(*) as won_count,
    {{ crm_kpis.to_money('sum(amount_reporting)') }} as won_amount,
    {{ crm_kpis.safe_divide('sum(amount_reporting)', 'count(*)') }} as average_deal_size,
    {{ crm_kpis.to_money('percentile_cont(0.5) within group (order by amount_reporting)') }} as median_deal_size,
    {{ crm_kpis.to_money('max(amount_reporting)') }} as largest_deal,
    '{{ var("reporting_currency") }}' as reporting_currency,
    {{ crm_kpis.built_at() }} as built_at
from won
group by 1, 2, 3, 4, 5

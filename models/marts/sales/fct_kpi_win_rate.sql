{#- KPI 1, win rate: defined in models/docs/kpi_definitions.md (doc `fct_kpi_win_rate`), the one home
    of its definition (also rendered into docs/kpis.md).

    Incremental by period_month: a nightly build rebuilds the months its deals' changes touch (affected_months,
    macros/incremental.sql). -#}
{{ config(**crm_kpis.deal_month_fact_config('close_month')) }}
-- depends_on: {{ ref('int_opportunity_month_versions') }}

with opportunities as (
    select * from ({{ crm_kpis.deals_in_affected_months(ref('int_opportunities_enriched'), 'close_month') }}) as deals
    where is_kpi_eligible and is_closed
)

select
    close_month as period_month,
    owner_id,
    coalesce(segment, 'unknown') as segment,
    coalesce(industry, 'unknown') as industry,
    coalesce(product_line, 'unknown') as product_line,
    lead_source,
    sum(case when is_won then 1 else 0 end) as won_count,
    sum(case when is_won then 0 else 1 end) as lost_count,
    {{ crm_kpis.to_money('sum(case when is_won then amount_reporting else 0 end)') }} as won_amount,
    {{ crm_kpis.to_money('sum(case when is_won then 0 else amount_reporting end)') }} as lost_amount,
    {{ crm_kpis.safe_divide('sum(case when is_won then 1 else 0 end)', 'count(*)') }} as win_rate,
    {{ crm_kpis.safe_divide('sum(case when is_won then amount_reporting else 0 end)', 'sum(amount_reporting)') }} as value_win_rate,
    '{{ var("reporting_currency") }}' as reporting_currency,
    {{ crm_kpis.built_at() }} as built_at
from opportunities
group by 1, 2, 3, 4, 5, 6

{#- KPI 9, pipeline created: defined in models/docs/kpi_definitions.md (doc `fct_kpi_pipeline_created`), the one home
    of its definition (also rendered into docs/kpis.md).

    Incremental by period_month: a nightly build rebuilds the months its deals' changes touch (affected_months,
    macros/incremental.sql). -#}
{{ config(**crm_kpis.deal_month_fact_config('created_month')) }}
-- depends_on: {{ ref('int_opportunity_month_versions') }}

with opportunities as (
    select * from ({{ crm_kpis.deals_in_affected_months(ref('int_opportunities_enriched'), 'created_month') }}) as deals
    where is_kpi_eligible
),

fx_rates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_fx_rates_monthly') }}
)

select
    opportunities.created_month as period_month,
    opportunities.owner_id,
    coalesce(opportunities.product_line, 'unknown') as product_line,
    count(*) as created_count,
    {{ crm_kpis.to_money('sum(' ~ crm_kpis.to_money('opportunities.amount * fx_rates.rate_to_reporting') ~ ')') }} as created_amount,
    sum(case when opportunities.is_won then 1 else 0 end) as won_to_date_count,
    sum(case when opportunities.is_closed then 0 else 1 end) as still_open_count,
    '{{ var("reporting_currency") }}' as reporting_currency,
    {{ crm_kpis.built_at() }} as built_at
from opportunities
left join fx_rates
    on opportunities.currency = fx_rates.currency
    and opportunities.created_month = fx_rates.rate_month
group by opportunities.created_month, opportunities.owner_id, coalesce(opportunities.product_line, 'unknown')

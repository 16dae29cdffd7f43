{#- The periods a forecast is measured over: every month and quarter from the first month with a
    KPI-eligible opportunity up to the build date, with the snapshot its forecast is read from (the
    pipeline at the end of the month before, "as of the period's first day"). Grain: period_grain x
    period_start. Shared by fct_kpi_forecast_accuracy and fct_insight_forecast_backtest, so both
    forecast exactly the same periods. -#}
select
    period_grain,
    period_start,
    period_end,
    cast({{ dbt.dateadd('day', -1, 'period_start') }} as date) as forecast_snapshot_date
from {{ ref('int_reporting_periods') }}
where period_grain in ('month', 'quarter')
    and period_start >= (
        select min(opportunities.created_month) from {{ ref('int_opportunities_enriched') }} as opportunities
        where opportunities.is_kpi_eligible
    )
    and period_start <= {{ crm_kpis.as_of_date() }}

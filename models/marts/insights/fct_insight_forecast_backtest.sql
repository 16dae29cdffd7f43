{#- Insight 2c. Backtest of the calibrated forecast against the stage-default one, per month and
    quarter and owner: both are the weighted pipeline as of the period's first day (the snapshot at
    the end of the month before) of deals expected to close in the period, weighted by the CRM's
    probabilities (default_forecast, = pipeline_forecast of fct_kpi_forecast_accuracy) or by the
    probabilities learned up to that snapshot (calibrated_forecast); actual = won amount closed in
    the period. error = forecast - actual, APE = |error| / actual, bias = error / actual; NULL when
    actual is 0, forecasts NULL when no snapshot precedes the period. Forecasts and actuals add up
    across owners; recompute the ratios after summing. -#}
with pipeline as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_insight_pipeline_calibrated') }}
    where is_month_end
),

periods as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_forecast_periods') }}
),

available_snapshots as (
    select distinct snapshot_date from pipeline
),

forecasts as (
    select
        periods.period_grain,
        periods.period_start,
        pipeline.owner_id,
        sum(pipeline.weighted_amount_reporting) as default_forecast,
        sum(pipeline.calibrated_weighted_amount_reporting) as calibrated_forecast
    from periods
    inner join pipeline
        on pipeline.snapshot_date = periods.forecast_snapshot_date
        and pipeline.expected_close_date >= periods.period_start
        and pipeline.expected_close_date <= periods.period_end
    group by periods.period_grain, periods.period_start, pipeline.owner_id
),

actuals as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_won_amount_by_period') }}
),

owner_periods as (
    select period_grain, period_start, owner_id from forecasts
    union
    select period_grain, period_start, owner_id from actuals
),

combined as (
    select
        owner_periods.period_grain,
        owner_periods.period_start,
        periods.period_end,
        owner_periods.owner_id,
        {{ crm_kpis.to_money('case when available_snapshots.snapshot_date is not null then coalesce(forecasts.default_forecast, 0) end') }} as default_forecast,
        {{ crm_kpis.to_money('case when available_snapshots.snapshot_date is not null then coalesce(forecasts.calibrated_forecast, 0) end') }} as calibrated_forecast,
        {{ crm_kpis.to_money('coalesce(actuals.actual_amount, 0)') }} as actual_amount
    from owner_periods
    inner join periods
        on owner_periods.period_grain = periods.period_grain and owner_periods.period_start = periods.period_start
    left join available_snapshots on periods.forecast_snapshot_date = available_snapshots.snapshot_date
    left join forecasts
        on owner_periods.period_grain = forecasts.period_grain
        and owner_periods.period_start = forecasts.period_start
        and owner_periods.owner_id = forecasts.owner_id
    left join actuals
        on owner_periods.period_grain = actuals.period_grain
        and owner_periods.period_start = actuals.period_start
        and owner_periods.owner_id = actuals.owner_id
)

select
    period_grain,
    period_start,
    period_end,
    owner_id,
    default_forecast,
    calibrated_forecast,
    actual_amount,
    {{ crm_kpis.to_money('default_forecast - actual_amount') }} as default_error,
    {{ crm_kpis.to_money('calibrated_forecast - actual_amount') }} as calibrated_error,
    {{ crm_kpis.ratio('abs(default_forecast - actual_amount)', 'actual_amount') }} as default_absolute_percentage_error,
    {{ crm_kpis.ratio('abs(calibrated_forecast - actual_amount)', 'actual_amount') }} as calibrated_absolute_percentage_error,
    {{ crm_kpis.ratio('default_forecast - actual_amount', 'actual_amount') }} as default_bias,
    {{ crm_kpis.ratio('calibrated_forecast - actual_amount', 'actual_amount') }} as calibrated_bias,
    '{{ var("reporting_currency") }}' as reporting_currency
from combined

{#- The actual a forecast is measured against: won amount (reporting currency at the close month's rate)
    closed in each forecast period (business-time-zone close dates), per owner. Grain: period_grain x
    period_start x owner_id. -#}
with won as (
    select owner_id, close_date, amount_reporting
    from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_won
)

select periods.period_grain, periods.period_start, won.owner_id, sum(won.amount_reporting) as actual_amount
from {{ ref('int_forecast_periods') }} as periods
inner join won on won.close_date >= periods.period_start and won.close_date <= periods.period_end
group by periods.period_grain, periods.period_start, won.owner_id

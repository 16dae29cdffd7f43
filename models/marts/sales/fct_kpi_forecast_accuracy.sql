{#- KPI 10, forecast accuracy: defined in models/docs/kpi_definitions.md (doc `fct_kpi_forecast_accuracy`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with snapshots as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_pipeline_snapshots') }}
    where is_month_end
),

submissions as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_forecast_submissions_unioned') }}
),

users as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_users') }}
),

reporting_periods as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_forecast_periods') }}
),

fx_rates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_fx_rates_monthly') }}
),

available_snapshots as (
    select distinct snapshot_date from snapshots
),

pipeline_forecast as (
    select
        reporting_periods.period_grain,
        reporting_periods.period_start,
        snapshots.owner_id,
        sum(snapshots.weighted_amount_reporting) as pipeline_forecast
    from reporting_periods
    inner join snapshots
        on snapshots.snapshot_date = reporting_periods.forecast_snapshot_date
        and snapshots.expected_close_date >= reporting_periods.period_start
        and snapshots.expected_close_date <= reporting_periods.period_end
    group by reporting_periods.period_grain, reporting_periods.period_start, snapshots.owner_id
),

latest_submissions as (
    select *
    from (
        select
            reporting_periods.period_grain,
            reporting_periods.period_start,
            submissions.user_id as owner_id,
            {{ crm_kpis.to_money('submissions.forecast_amount * fx_rates.rate_to_reporting') }} as submitted_forecast,
            row_number() over (
                partition by reporting_periods.period_grain, reporting_periods.period_start, submissions.user_id
                order by submissions.submitted_at desc
            ) as submission_rank
        from reporting_periods
        inner join submissions
            on submissions.period_start = reporting_periods.period_start
            and submissions.period_end = reporting_periods.period_end
            and {{ crm_kpis.to_business_time('submissions.submitted_at') }} < cast(reporting_periods.period_start as {{ dbt.type_timestamp() }})
        left join fx_rates
            on submissions.currency = fx_rates.currency
            and reporting_periods.period_start = fx_rates.rate_month
    ) as ranked
    where submission_rank = 1
),

actuals as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_won_amount_by_period') }}
),

owner_periods as (
    select period_grain, period_start, owner_id from pipeline_forecast
    union
    select period_grain, period_start, owner_id from latest_submissions
    union
    select period_grain, period_start, owner_id from actuals
),

by_owner as (
    select
        owner_periods.period_grain,
        owner_periods.period_start,
        coalesce(users.team, 'unknown') as team,
        coalesce(pipeline_forecast.pipeline_forecast, 0) as pipeline_forecast,
        latest_submissions.submitted_forecast,
        coalesce(actuals.actual_amount, 0) as actual_amount
    from owner_periods
    left join users on owner_periods.owner_id = users.user_id
    left join pipeline_forecast
        on owner_periods.period_grain = pipeline_forecast.period_grain
        and owner_periods.period_start = pipeline_forecast.period_start
        and owner_periods.owner_id = pipeline_forecast.owner_id
    left join latest_submissions
        on owner_periods.period_grain = latest_submissions.period_grain
        and owner_periods.period_start = latest_submissions.period_start
        and owner_periods.owner_id = latest_submissions.owner_id
    left join actuals
        on owner_periods.period_grain = actuals.period_grain
        and owner_periods.period_start = actuals.period_start
        and owner_periods.owner_id = actuals.owner_id
),

by_level as (
    select 'team' as level, period_grain, period_start, team,
        sum(pipeline_forecast) as pipeline_forecast, sum(submitted_forecast) as submitted_forecast,
        sum(actual_amount) as actual_amount
    from by_owner
    group by period_grain, period_start, team
    union all
    select 'company' as level, period_grain, period_start, 'all' as team,
        sum(pipeline_forecast), sum(submitted_forecast), sum(actual_amount)
    from by_owner
    group by period_grain, period_start
),

measured as (
    select
        by_level.level,
        by_level.period_grain,
        by_level.period_start,
        reporting_periods.period_end,
        by_level.team,
        case when available_snapshots.snapshot_date is not null then by_level.pipeline_forecast end as pipeline_forecast,
        by_level.submitted_forecast,
        by_level.actual_amount
    from by_level
    inner join reporting_periods
        on by_level.period_grain = reporting_periods.period_grain
        and by_level.period_start = reporting_periods.period_start
    left join available_snapshots on reporting_periods.forecast_snapshot_date = available_snapshots.snapshot_date
)

select
    level,
    period_grain,
    period_start,
    period_end,
    team,
    {{ crm_kpis.to_money('pipeline_forecast') }} as pipeline_forecast,
    {{ crm_kpis.to_money('actual_amount') }} as actual_amount,
    {{ crm_kpis.to_money('pipeline_forecast - actual_amount') }} as forecast_error,
    {{ crm_kpis.safe_divide('abs(pipeline_forecast - actual_amount)', 'actual_amount') }} as absolute_percentage_error,
    1 - {{ crm_kpis.safe_divide('abs(pipeline_forecast - actual_amount)', 'actual_amount') }} as forecast_accuracy,
    {{ crm_kpis.safe_divide('pipeline_forecast - actual_amount', 'actual_amount') }} as forecast_bias,
    {{ crm_kpis.to_money('submitted_forecast') }} as submitted_forecast,
    {{ crm_kpis.to_money('submitted_forecast - actual_amount') }} as submitted_error,
    {{ crm_kpis.safe_divide('abs(submitted_forecast - actual_amount)', 'actual_amount') }} as submitted_absolute_percentage_error,
    1 - {{ crm_kpis.safe_divide('abs(submitted_forecast - actual_amount)', 'actual_amount') }} as submitted_accuracy,
    {{ crm_kpis.safe_divide('submitted_forecast - actual_amount', 'actual_amount') }} as submitted_bias,
    '{{ var("reporting_currency") }}' as reporting_currency
from measured

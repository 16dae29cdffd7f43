{#- Point-in-time open pipeline, reconstructed from history: one row per open opportunity at the end of
    each month (the state at midnight starting the next day, business time zone) and as of the build
    date. The end of month M is also "the first day of M+1" for forecasts. Opportunities whose
    forecast category was `omitted` at the time are left out. Amounts use the rate of the snapshot
    month; weighted amount = amount x probability / 100, the stage default when probability is NULL. -#}
with intervals as (
    select * from {{ ref('int_opportunity_history_intervals') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible
),

dates as (
    select * from {{ ref('dim_date') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_monthly') }}
),

first_month as (
    select min(created_month) as month_start from opportunities
),

month_end_snapshots as (
    select
        dates.month_end as snapshot_date,
        dates.month_start as snapshot_month,
        true as is_month_end
    from dates
    where dates.date_day = dates.month_start
        and dates.month_start >= (select first_month.month_start from first_month)
        and dates.month_end < {{ crm_kpis.as_of_date() }}
),

as_of_snapshot as (
    select
        {{ crm_kpis.as_of_date() }} as snapshot_date,
        cast({{ dbt.date_trunc('month', crm_kpis.as_of_date()) }} as date) as snapshot_month,
        {{ crm_kpis.as_of_date() }} = cast({{ dbt.last_day(crm_kpis.as_of_date(), 'month') }} as date) as is_month_end
),

snapshots as (
    select
        snapshot_date,
        snapshot_month,
        is_month_end,
        cast({{ dbt.dateadd('day', 1, 'snapshot_date') }} as {{ dbt.type_timestamp() }}) as snapshot_at_local
    from (
        select * from month_end_snapshots
        union all
        select * from as_of_snapshot
    ) as snapshot_dates
),

open_at_snapshot as (
    select
        snapshots.snapshot_date,
        snapshots.snapshot_month,
        snapshots.is_month_end,
        intervals.opportunity_id,
        intervals.stage,
        intervals.stage_order,
        intervals.amount,
        intervals.currency,
        intervals.effective_probability,
        intervals.expected_close_date,
        intervals.forecast_category
    from intervals
    inner join snapshots
        on intervals.valid_from_local < snapshots.snapshot_at_local
        and (intervals.valid_to_local is null or intervals.valid_to_local >= snapshots.snapshot_at_local)
    where not intervals.is_closed_stage
        and coalesce(intervals.forecast_category, 'pipeline') <> 'omitted'
)

select
    open_at_snapshot.snapshot_date,
    open_at_snapshot.snapshot_month,
    open_at_snapshot.is_month_end,
    open_at_snapshot.opportunity_id,
    opportunities.owner_id,
    opportunities.product_line,
    opportunities.segment,
    open_at_snapshot.stage,
    open_at_snapshot.stage_order,
    open_at_snapshot.forecast_category,
    open_at_snapshot.expected_close_date,
    cast({{ dbt.date_trunc('quarter', 'open_at_snapshot.expected_close_date') }} as date) as expected_close_quarter,
    open_at_snapshot.effective_probability as probability,
    open_at_snapshot.amount,
    open_at_snapshot.currency,
    {{ crm_kpis.to_money('open_at_snapshot.amount * fx_rates.rate_to_reporting') }} as amount_reporting,
    {{ crm_kpis.to_money('open_at_snapshot.amount * fx_rates.rate_to_reporting * open_at_snapshot.effective_probability / 100.0') }} as weighted_amount_reporting
from open_at_snapshot
inner join opportunities on open_at_snapshot.opportunity_id = opportunities.opportunity_id
left join fx_rates
    on open_at_snapshot.currency = fx_rates.currency
    and open_at_snapshot.snapshot_month = fx_rates.rate_month

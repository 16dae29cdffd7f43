{#- KPI 15, pipeline velocity: defined in models/docs/kpi_definitions.md (doc `fct_kpi_pipeline_velocity`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with snapshots as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_pipeline_snapshots') }}
),

closed as (
    select
        int_opportunities_enriched.*,
        {{ dbt.datediff('created_date', 'close_date', 'day') }} as cycle_days
    from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_closed
),

snapshot_dates as (
    select distinct snapshot_date, snapshot_month, is_month_end from snapshots
),

open_deals as (
    select snapshot_date, owner_id, count(*) as open_count
    from snapshots
    group by snapshot_date, owner_id
),

trailing_closed as (
    select
        snapshot_dates.snapshot_date,
        closed.owner_id,
        sum(case when closed.is_won then 1 else 0 end) as won_count_90d,
        sum(case when closed.is_won then 0 else 1 end) as lost_count_90d,
        sum(case when closed.is_won then closed.amount_reporting else 0 end) as won_amount_90d,
        sum(case when closed.is_won and not closed.is_close_before_creation then 1 else 0 end) as won_cycle_count_90d,
        sum(case when closed.is_won and not closed.is_close_before_creation then closed.cycle_days else 0 end) as won_cycle_days_sum_90d
    from snapshot_dates
    inner join closed
        on closed.close_date <= snapshot_dates.snapshot_date
        and closed.close_date > cast({{ dbt.dateadd('day', -90, 'snapshot_dates.snapshot_date') }} as date)
    group by snapshot_dates.snapshot_date, closed.owner_id
),

combined as (
    select
        snapshot_dates.snapshot_date,
        snapshot_dates.snapshot_month,
        snapshot_dates.is_month_end,
        coalesce(open_deals.owner_id, trailing_closed.owner_id) as owner_id,
        coalesce(open_deals.open_count, 0) as open_count,
        coalesce(trailing_closed.won_count_90d, 0) as won_count_90d,
        coalesce(trailing_closed.lost_count_90d, 0) as lost_count_90d,
        coalesce(trailing_closed.won_amount_90d, 0) as won_amount_90d,
        coalesce(trailing_closed.won_cycle_count_90d, 0) as won_cycle_count_90d,
        coalesce(trailing_closed.won_cycle_days_sum_90d, 0) as won_cycle_days_sum_90d
    from open_deals
    full outer join trailing_closed
        on open_deals.snapshot_date = trailing_closed.snapshot_date
        and open_deals.owner_id = trailing_closed.owner_id
    inner join snapshot_dates
        on snapshot_dates.snapshot_date = coalesce(open_deals.snapshot_date, trailing_closed.snapshot_date)
),

ratios as (
    select
        combined.*,
        {{ crm_kpis.safe_divide('won_count_90d', 'won_count_90d + lost_count_90d') }} as win_rate_90d,
        {{ crm_kpis.safe_divide('won_amount_90d', 'won_count_90d') }} as average_deal_size_90d,
        {{ crm_kpis.safe_divide('won_cycle_days_sum_90d', 'won_cycle_count_90d') }} as average_cycle_days_90d
    from combined
)

select
    snapshot_date,
    snapshot_month as period_month,
    is_month_end,
    owner_id,
    open_count,
    won_count_90d,
    lost_count_90d,
    {{ crm_kpis.to_money('won_amount_90d') }} as won_amount_90d,
    won_cycle_count_90d,
    won_cycle_days_sum_90d,
    win_rate_90d,
    average_deal_size_90d,
    average_cycle_days_90d,
    {{ crm_kpis.safe_divide('open_count * win_rate_90d * average_deal_size_90d', 'average_cycle_days_90d') }} as pipeline_velocity_per_day,
    '{{ var("reporting_currency") }}' as reporting_currency
from ratios

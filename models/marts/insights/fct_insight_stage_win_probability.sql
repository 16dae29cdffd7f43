{#- Insight 2a. Stage-to-win probabilities learned from closed deals, at every pipeline snapshot (month
    ends and the build date): of the deals closed in the trailing var insight_window_days up to the
    snapshot that sat in a stage (a real visit; a stage jumped over was never a place a deal could be
    found in), the share that was won. Only what was known at the snapshot is used, so a backtest of
    the calibrated forecast never looks ahead.

    calibrated_probability blends the empirical rate with the stage default as a prior worth
    var win_probability_prior_deals deals: (won + prior x default) / (reached + prior). With few
    closed deals it stays near the default; with many it is the empirical rate. By stage for every
    deal (cut = 'all', one row per open stage and snapshot, also with no data), and by segment and
    product line (cut = 'segment' / 'product_line', where deals closed). -#}
{% set window_days = var('insight_window_days') | int %}
{% set prior = var('win_probability_prior_deals') | float %}

with snapshots as (
    select distinct snapshot_date from {{ ref('int_pipeline_snapshots') }}
),

open_stages as (
    select stage, stage_order, {{ crm_kpis.ratio('default_probability', '100') }} as stage_default_probability
    from {{ ref('opportunity_stages') }}
    where not is_closed
),

closed as (
    select opportunity_id, close_date, is_won, segment, product_line
    from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_closed
),

deal_stages as (
    select distinct opportunity_id, stage
    from {{ ref('int_opportunity_stage_visits') }}
    where not is_skipped
),

-- counted by close day before the window join: each closed deal counts in a year of snapshots, so joining the
-- deals themselves made a row per deal, stage and snapshot (and three times that by cut)
closed_by_day as (
    select
        closed.close_date,
        deal_stages.stage,
        coalesce(closed.segment, 'unknown') as segment,
        coalesce(closed.product_line, 'unknown') as product_line,
        count(*) as reached_count,
        sum(case when closed.is_won then 1 else 0 end) as won_count
    from closed
    inner join deal_stages on closed.opportunity_id = deal_stages.opportunity_id
    group by closed.close_date, deal_stages.stage, coalesce(closed.segment, 'unknown'), coalesce(closed.product_line, 'unknown')
),

learned_from as (
    select
        snapshots.snapshot_date,
        closed_by_day.stage,
        closed_by_day.segment,
        closed_by_day.product_line,
        closed_by_day.reached_count,
        closed_by_day.won_count
    from snapshots
    inner join closed_by_day
        on closed_by_day.close_date <= snapshots.snapshot_date
        and closed_by_day.close_date > cast({{ dbt.dateadd('day', -window_days, 'snapshots.snapshot_date') }} as date)
),

by_cut as (
    select snapshot_date, stage, 'all' as cut, 'all' as cut_value, reached_count, won_count from learned_from
    union all
    select snapshot_date, stage, 'segment' as cut, segment as cut_value, reached_count, won_count from learned_from
    union all
    select snapshot_date, stage, 'product_line' as cut, product_line as cut_value, reached_count, won_count from learned_from
),

counted as (
    select
        snapshot_date,
        stage,
        cut,
        cut_value,
        sum(reached_count) as reached_count,
        sum(won_count) as won_count
    from by_cut
    group by snapshot_date, stage, cut, cut_value
),

cells as (
    select snapshots.snapshot_date, open_stages.stage, 'all' as cut, 'all' as cut_value
    from snapshots
    cross join open_stages
    union
    select counted.snapshot_date, counted.stage, counted.cut, counted.cut_value
    from counted
    inner join open_stages on counted.stage = open_stages.stage
    where counted.cut <> 'all'
),

measured as (
    select
        cells.snapshot_date,
        cells.stage,
        open_stages.stage_order,
        cells.cut,
        cells.cut_value,
        coalesce(counted.reached_count, 0) as reached_count,
        coalesce(counted.won_count, 0) as won_count,
        open_stages.stage_default_probability
    from cells
    inner join open_stages on cells.stage = open_stages.stage
    left join counted
        on cells.snapshot_date = counted.snapshot_date
        and cells.stage = counted.stage
        and cells.cut = counted.cut
        and cells.cut_value = counted.cut_value
)

select
    snapshot_date,
    snapshot_date = {{ crm_kpis.as_of_date() }} as is_as_of_date,
    cast({{ dbt.dateadd('day', -window_days + 1, 'snapshot_date') }} as date) as window_start,
    stage,
    stage_order,
    cut,
    cut_value,
    {{ crm_kpis.count_of('reached_count') }} as reached_count,
    {{ crm_kpis.count_of('won_count') }} as won_count,
    {{ crm_kpis.count_of('reached_count - won_count') }} as lost_count,
    {{ crm_kpis.rate_with_interval('won_count', 'reached_count', 'empirical_probability') }},
    stage_default_probability,
    cast(coalesce(
        {{ crm_kpis.safe_divide('won_count + ' ~ prior ~ ' * stage_default_probability', 'reached_count + ' ~ prior) }},
        stage_default_probability
    ) as {{ crm_kpis.type_double() }}) as calibrated_probability
from measured

{#- Insight 6. Where is the win rate moving? Deals closed in each month and quarter (business time
    zone) by industry and by product line (dimension, dimension_value), with the same cell's counts in
    the period before beside them: the change of the win rate in points and the two-proportion z
    score of the change (|z| >= 1.96: unlikely to be chance). Cut by owner and segment so any team,
    rep or segment rolls up: sum the current and previous parts, then divide. Grain: period_grain x
    period_start x owner_id x segment x dimension x dimension_value. -#}
with closed as (
    select close_month, owner_id, coalesce(segment, 'unknown') as segment, industry, product_line, is_won, amount_reporting
    from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_closed and close_date <= {{ crm_kpis.as_of_date() }}
),

by_dimension as (
    select 'industry' as dimension, coalesce(industry, 'unknown') as dimension_value, closed.* from closed
    union all
    select 'product_line' as dimension, coalesce(product_line, 'unknown') as dimension_value, closed.* from closed
),

by_period as (
    select 'month' as period_grain, close_month as period_start, by_dimension.* from by_dimension
    union all
    select 'quarter' as period_grain, cast({{ dbt.date_trunc('quarter', 'close_month') }} as date) as period_start, by_dimension.*
    from by_dimension
),

cells as (
    select
        period_grain,
        period_start,
        owner_id,
        segment,
        dimension,
        dimension_value,
        sum(case when is_won then 1 else 0 end) as won_count,
        sum(case when is_won then 0 else 1 end) as lost_count,
        sum(case when is_won then amount_reporting else 0 end) as won_amount
    from by_period
    group by period_grain, period_start, owner_id, segment, dimension, dimension_value
),

-- each cell again as the "previous period" of the period after it
as_previous as (
    select
        period_grain,
        case when period_grain = 'month'
            then cast({{ dbt.dateadd('month', 1, 'period_start') }} as date)
            else cast({{ dbt.dateadd('month', 3, 'period_start') }} as date)
        end as period_start,
        owner_id,
        segment,
        dimension,
        dimension_value,
        won_count,
        lost_count,
        won_amount
    from cells
),

paired as (
    select
        coalesce(cells.period_grain, as_previous.period_grain) as period_grain,
        coalesce(cells.period_start, as_previous.period_start) as period_start,
        coalesce(cells.owner_id, as_previous.owner_id) as owner_id,
        coalesce(cells.segment, as_previous.segment) as segment,
        coalesce(cells.dimension, as_previous.dimension) as dimension,
        coalesce(cells.dimension_value, as_previous.dimension_value) as dimension_value,
        coalesce(cells.won_count, 0) as won_count,
        coalesce(cells.lost_count, 0) as lost_count,
        {{ crm_kpis.to_money('coalesce(cells.won_amount, 0)') }} as won_amount,
        coalesce(as_previous.won_count, 0) as previous_won_count,
        coalesce(as_previous.lost_count, 0) as previous_lost_count,
        {{ crm_kpis.to_money('coalesce(as_previous.won_amount, 0)') }} as previous_won_amount
    from cells
    full outer join as_previous
        on cells.period_grain = as_previous.period_grain
        and cells.period_start = as_previous.period_start
        and cells.owner_id = as_previous.owner_id
        and cells.segment = as_previous.segment
        and cells.dimension = as_previous.dimension
        and cells.dimension_value = as_previous.dimension_value
)

select
    period_grain,
    period_start,
    case when period_grain = 'month'
        then cast({{ dbt.dateadd('month', -1, 'period_start') }} as date)
        else cast({{ dbt.dateadd('month', -3, 'period_start') }} as date)
    end as previous_period_start,
    owner_id,
    segment,
    dimension,
    dimension_value,
    {{ crm_kpis.count_of('won_count') }} as won_count,
    {{ crm_kpis.count_of('lost_count') }} as lost_count,
    {{ crm_kpis.rate_with_interval('won_count', 'won_count + lost_count', 'win_rate') }},
    won_amount,
    {{ crm_kpis.count_of('previous_won_count') }} as previous_won_count,
    {{ crm_kpis.count_of('previous_lost_count') }} as previous_lost_count,
    {{ crm_kpis.ratio('previous_won_count', 'previous_won_count + previous_lost_count') }} as previous_win_rate,
    previous_won_amount,
    cast({{ crm_kpis.safe_divide('won_count', 'won_count + lost_count') }}
        - {{ crm_kpis.safe_divide('previous_won_count', 'previous_won_count + previous_lost_count') }} as {{ crm_kpis.type_double() }}) as win_rate_change,
    {{ crm_kpis.two_proportion_z('won_count', 'won_count + lost_count', 'previous_won_count', 'previous_won_count + previous_lost_count') }} as change_z_score,
    '{{ var("reporting_currency") }}' as reporting_currency
from paired
where period_start <= {{ crm_kpis.as_of_date() }}

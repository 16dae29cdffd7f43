{#- The calendar periods KPIs are reported by: every month, quarter and year of dim_date with its
    first and last day and the first day of its last month. Grain: period_grain x period_start. -#}
with dates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_date') }}
),

periods as (
    select 'month' as period_grain, month_start as period_start, 0 as extra_months
    from dates
    where date_day = month_start
    union all
    select 'quarter' as period_grain, quarter_start as period_start, 2 as extra_months
    from dates
    where date_day = quarter_start
    union all
    select 'year' as period_grain, year_start as period_start, 11 as extra_months
    from dates
    where date_day = year_start
)

select
    period_grain,
    period_start,
    cast({{ dbt.dateadd('month', 'extra_months', 'period_start') }} as date) as last_month_start,
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 'extra_months + 1', 'period_start')) }} as date) as period_end
from periods

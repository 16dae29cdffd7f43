{#- One row per calendar day between vars calendar_start (env CRM_KPIS_CALENDAR_START, default
    2020-01-01: set it before your oldest CRM date) and calendar_end, with calendar and
    fiscal attributes. The fiscal year starts in var fiscal_year_start_month and is named after
    the calendar year in which it ends (FY2026 = Jul 2025 - Jun 2026 for a July start). -#}
{% set fiscal_start = var('fiscal_year_start_month') | int %}

with days as (
    {{ dbt.date_spine('day', "cast('" ~ var('calendar_start') ~ "' as date)", "cast('" ~ var('calendar_end') ~ "' as date)") }}
),

calendar as (
    select
        cast(date_day as date) as date_day,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(quarter from date_day) as integer) as calendar_quarter,
        cast(extract(month from date_day) as integer) as calendar_month,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as iso_week_start
    from days
)

select
    calendar.*,
    cast({{ dbt.last_day('date_day', 'month') }} as date) as month_end,
    {% if fiscal_start == 1 -%}
    calendar_year as fiscal_year,
    {%- else -%}
    calendar_year + case when calendar_month >= {{ fiscal_start }} then 1 else 0 end as fiscal_year,
    {%- endif %}
    cast(floor(mod(calendar_month - {{ fiscal_start }} + 12, 12) / 3) + 1 as integer) as fiscal_quarter
from calendar

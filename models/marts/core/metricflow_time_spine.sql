{#- MetricFlow's day spine (dbt 1.11 reads the top-level semantic_models spec and this model): the days of
    dim_date, so metrics cover exactly the calendar of the marts (vars calendar_start / calendar_end). -#}
select date_day
from {{ ref('dim_date') }}

{#- kpis.md 10: the company's actual (won amount) is the sum of its teams', per month and quarter. -#}
with teams as (
    select period_grain, period_start, sum(actual_amount) as actual_amount
    from {{ ref('fct_kpi_forecast_accuracy') }}
    where level = 'team'
    group by period_grain, period_start
)

select company.period_grain, company.period_start, company.actual_amount, teams.actual_amount as teams_actual_amount
from {{ ref('fct_kpi_forecast_accuracy') }} as company
inner join teams on company.period_grain = teams.period_grain and company.period_start = teams.period_start
where company.level = 'company'
    and abs(company.actual_amount - teams.actual_amount) > 0.005

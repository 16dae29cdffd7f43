{#- kpis.md: bookings in quota attainment = won amount in win rate, per rep and quota period (to the cent). -#}
with quota as (
    select user_id as owner_id, period_start, period_end, bookings from {{ ref('fct_kpi_quota_attainment') }}
),

won as (
    select quota.owner_id, quota.period_start, sum(win_rate.won_amount) as won_amount
    from quota
    inner join {{ ref('fct_kpi_win_rate') }} as win_rate
        on win_rate.owner_id = quota.owner_id
        and win_rate.period_month between quota.period_start and quota.period_end
    group by quota.owner_id, quota.period_start
)

select quota.owner_id, quota.period_start, quota.bookings, won.won_amount
from quota
left join won on quota.owner_id = won.owner_id and quota.period_start = won.period_start
where abs(quota.bookings - coalesce(won.won_amount, 0)) > 0.005

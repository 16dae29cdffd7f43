{#- One row per activity (not deleted) with its business-time-zone date, ISO week and month and whether
    it counts in the activity KPI (completed, with an owner), so activity counts drill down to the
    calls, e-mails and meetings behind them. -#}
with activities as (
    select * from {{ ref('int_activities_enriched') }}
    -- a soft-deleted activity is a tombstone row there (incremental models delete nothing): no activity
    where not is_tombstone
)

select
    activity_id,
    activity_type,
    activity_type_value,
    occurred_at,
    occurred_date,
    occurred_week,
    occurred_month,
    is_completed,
    owner_id,
    account_id,
    opportunity_id,
    lead_id,
    duration_minutes,
    is_completed and owner_id is not null as counts_in_kpis
from activities

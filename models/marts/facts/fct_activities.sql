{#- One row per activity (not deleted) with its business-time-zone date, ISO week and month and whether
    it counts in the activity KPI (completed, with an owner), so activity counts drill down to the
    calls, e-mails and meetings behind them.

    Incremental by activity_id (macros/incremental.sql): a run rebuilds the activities int_activities_enriched
    rebuilt since this model's last build (its built_at); a pre-hook first deletes their old rows, so a
    soft-deleted one (a tombstone there) loses its row. On Spark on parquet the model is rebuilt whole. -#}
{{ config(**crm_kpis.rebuilt_upstream_config('activity_id', 'int_activities_enriched', upstream_deletes=false)) }}
{{- crm_kpis.require_incremental_column('built_at') }}

with rebuilt as (
    {{ crm_kpis.rebuilt_since_last_build(ref('int_activities_enriched')) }}
),

activities as (
    select * from rebuilt
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
    is_completed and owner_id is not null as counts_in_kpis,
    {{ crm_kpis.built_at() }} as built_at
from activities

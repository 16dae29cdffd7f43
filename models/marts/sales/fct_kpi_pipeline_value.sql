{#- KPI 9. Open pipeline as of each month end and as of the build date, reconstructed from history:
    count, amount and weighted amount (amount x probability / 100, the stage default when the deal
    has none), in the reporting currency at the snapshot month's rate; `omitted` deals excluded.
    Amounts add up across owners, stages and quarters of one snapshot, never across snapshots. -#}
with snapshots as (
    select * from {{ ref('int_pipeline_snapshots') }}
)

select
    snapshot_date,
    snapshot_month as period_month,
    is_month_end,
    owner_id,
    stage,
    min(stage_order) as stage_order,
    expected_close_quarter,
    count(*) as open_count,
    {{ crm_kpis.to_money('sum(amount_reporting)') }} as open_amount,
    {{ crm_kpis.to_money('sum(weighted_amount_reporting)') }} as weighted_amount,
    '{{ var("reporting_currency") }}' as reporting_currency
from snapshots
group by snapshot_date, snapshot_month, is_month_end, owner_id, stage, expected_close_quarter

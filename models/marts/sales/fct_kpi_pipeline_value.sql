{#- KPI 9, pipeline value: defined in models/docs/kpi_definitions.md (doc `fct_kpi_pipeline_value`), the one home
    of its definition (also rendered into docs/kpis.md). -#}
with snapshots as {{ crm_kpis.not_materialized() }} (
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

{#- Insight 2b. The open pipeline at every snapshot weighted twice: by the CRM's probabilities
    (weighted_amount, as in fct_kpi_pipeline_value) and by the stage-to-win probabilities learned from
    closed deals up to the snapshot (calibrated_weighted_amount). Amounts add up within one
    snapshot_date, never across snapshots (pipeline is a stock). -#}
with pipeline as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_insight_pipeline_calibrated') }}
)

select
    snapshot_date,
    snapshot_month as period_month,
    is_month_end,
    owner_id,
    coalesce(segment, 'unknown') as segment,
    stage,
    min(stage_order) as stage_order,
    expected_close_quarter,
    {{ crm_kpis.count_of('count(*)') }} as open_count,
    {{ crm_kpis.to_money('sum(amount_reporting)') }} as open_amount,
    {{ crm_kpis.to_money('sum(weighted_amount_reporting)') }} as weighted_amount,
    {{ crm_kpis.to_money('sum(calibrated_weighted_amount_reporting)') }} as calibrated_weighted_amount,
    max(calibrated_probability) as calibrated_probability,
    '{{ var("reporting_currency") }}' as reporting_currency
from pipeline
group by snapshot_date, snapshot_month, is_month_end, owner_id, coalesce(segment, 'unknown'), stage, expected_close_quarter

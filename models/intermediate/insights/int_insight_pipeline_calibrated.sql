{#- The point-in-time open pipeline (int_pipeline_snapshots, one row per open deal and snapshot) with
    the calibrated win probability of its stage as learned at that snapshot
    (fct_insight_stage_win_probability, cut 'all') and the weighted amount at that probability beside
    the default one (the deal's own probability, else the stage default). -#}
with snapshots as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_pipeline_snapshots') }}
),

probabilities as (
    select snapshot_date, stage, calibrated_probability
    from {{ ref('fct_insight_stage_win_probability') }}
    where cut = 'all'
)

select
    snapshots.*,
    probabilities.calibrated_probability,
    {{ crm_kpis.to_money('snapshots.amount_reporting * probabilities.calibrated_probability') }} as calibrated_weighted_amount_reporting
from snapshots
inner join probabilities
    on snapshots.snapshot_date = probabilities.snapshot_date
    and snapshots.stage = probabilities.stage

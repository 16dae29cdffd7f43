{#- Stage visits: a run of consecutive history intervals at the same open stage is one visit, from the
    change that entered the stage to the change that left it. Closed stages are terminal and have no
    visits. A forward move over stages (Qualification -> Proposal, or Proposal -> Closed Won) adds a
    0-day visit for each open stage jumped over (is_skipped): the deal passed it without stopping.
    Stages before the first recorded stage are not invented. A move back to an earlier open stage
    marks the visit it left as is_regression; the visit it enters is a revisit.

    Incremental: a deal's visits follow from its intervals alone, so a run rebuilds the deals whose
    intervals got rows landed since the visits were last built (watermark: the newest landing time
    behind each deal's visits), replacing them by opportunity_id (macros/incremental.sql). A deal whose
    rebuilt intervals leave it no visit at all (a re-landed history row turning its only open stage into a
    closed one) has its old visits deleted first (delete_changed_keys); on Spark on parquet, which cannot
    delete, the model is rebuilt whole (keys_can_vanish). -#}
{#- no partition: where the engine replaces partitions (Spark) this model is a table (keys_can_vanish) #}
{%- set replaced = crm_kpis.incremental_replace_config(key='opportunity_id', partition=none, keys_can_vanish=true) %}
{%- do replaced.update({'pre_hook': "{{ crm_kpis.delete_changed_keys('opportunity_id', ref('int_opportunity_history_intervals')) }}"}) %}
{{ config(**replaced) }}
{{- crm_kpis.require_incremental_column('built_at') }}

with all_intervals as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunity_history_intervals') }}
),

{% if is_incremental() %}
changed_intervals as (
    select opportunity_id from all_intervals
    where loaded_at > {{ crm_kpis.incremental_watermark() }}
),
{% endif %}

deal_intervals as (
    {{ crm_kpis.rows_to_rebuild('all_intervals', 'opportunity_id', 'changed_intervals') }}
),

deal_watermarks as (
    -- the newest landing time behind each deal's intervals: what the next run's watermark is taken from
    select opportunity_id, max(loaded_at) as loaded_at
    from deal_intervals
    group by opportunity_id
),

intervals as (
    select * from deal_intervals
    where stage_order is not null
),

stages as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('opportunity_stages') }}
),

marked as (
    select
        intervals.*,
        case
            when lag(intervals.stage) over (partition by intervals.opportunity_id order by intervals.change_seq) = intervals.stage
                then 0
            else 1
        end as starts_visit
    from intervals
),

numbered as (
    select
        marked.*,
        sum(starts_visit) over (
            partition by opportunity_id order by change_seq rows between unbounded preceding and current row
        ) as visit_number
    from marked
),

visits as (
    select
        opportunity_id,
        visit_number,
        min(stage) as stage,
        min(stage_order) as stage_order,
        min(case when is_closed_stage then 1 else 0 end) = 1 as is_closed_stage,
        min(case when is_won_stage then 1 else 0 end) = 1 as is_won_stage,
        min(valid_from) as entered_at,
        case when count(valid_to) = count(*) then max(valid_to) end as exited_at
    from numbered
    group by opportunity_id, visit_number
),

sequenced as (
    select
        visits.*,
        lag(stage_order) over (partition by opportunity_id order by visit_number) as previous_stage_order,
        lead(stage) over (partition by opportunity_id order by visit_number) as next_stage,
        lead(stage_order) over (partition by opportunity_id order by visit_number) as next_stage_order,
        lead(case when is_closed_stage and not is_won_stage then 1 else 0 end)
            over (partition by opportunity_id order by visit_number) = 1 as next_is_lost
    from visits
),

open_stage_visits as (
    select
        opportunity_id,
        visit_number,
        stage,
        stage_order,
        entered_at,
        exited_at,
        next_stage,
        false as is_skipped,
        coalesce(next_stage_order < stage_order, false) as is_regression,
        coalesce(previous_stage_order > stage_order, false) as is_revisit
    from sequenced
    where not is_closed_stage
),

skipped_stage_visits as (
    select
        sequenced.opportunity_id,
        sequenced.visit_number,
        stages.stage,
        stages.stage_order,
        sequenced.exited_at as entered_at,
        sequenced.exited_at,
        sequenced.next_stage,
        true as is_skipped,
        false as is_regression,
        false as is_revisit
    from sequenced
    inner join stages
        on stages.stage_order > sequenced.stage_order
        and stages.stage_order < sequenced.next_stage_order
        and not stages.is_closed
    where not sequenced.is_closed_stage
        and not sequenced.next_is_lost
),

all_visits as (
    select * from open_stage_visits
    union all
    select * from skipped_stage_visits
)

select
    all_visits.opportunity_id,
    all_visits.visit_number,
    all_visits.stage,
    all_visits.stage_order,
    all_visits.entered_at,
    all_visits.exited_at,
    {{ crm_kpis.to_business_date('all_visits.exited_at') }} as exited_date,
    cast({{ dbt.date_trunc('month', crm_kpis.to_business_date('all_visits.exited_at')) }} as date) as exited_month,
    {{ dbt.datediff('all_visits.entered_at', 'all_visits.exited_at', 'second') }} as duration_seconds,
    {{ crm_kpis.safe_divide(dbt.datediff('all_visits.entered_at', 'all_visits.exited_at', 'second'), '86400') }} as duration_days,
    all_visits.next_stage,
    all_visits.is_skipped,
    all_visits.is_regression,
    all_visits.is_revisit,
    all_visits.exited_at is null as is_current,
    deal_watermarks.loaded_at,
    {{ crm_kpis.built_at() }} as built_at
from all_visits
left join deal_watermarks on all_visits.opportunity_id = deal_watermarks.opportunity_id

{#- Point-in-time open pipeline, reconstructed from history: one row per open opportunity at the end of
    each month (the state at midnight starting the next day, business time zone) and as of the build
    date. The end of month M is also "the first day of M+1" for forecasts. Opportunities whose
    forecast category was `omitted` at the time are left out. Amounts use the rate of the snapshot
    month; weighted amount = amount x probability / 100, the stage default when probability is NULL.

    Incremental by deal and snapshot date (macros/incremental.sql, macros/pipeline_snapshots.sql): a
    deal's rows depend only on its intervals, its enriched row, its currency's rates and the snapshot
    dates. A run rebuilds every snapshot of the deals whose intervals or enriched row were rebuilt since
    its last build (built_at) or that were open in a month whose FX rate landed since, and the other
    deals at the dates it does not hold yet (the new as-of date, a month end that passed); a pre-hook
    first deletes the rows of those deals, of deals no longer KPI-eligible and of dates no longer
    snapshotted (yesterday's as-of date). On Spark on parquet the model is rebuilt whole. -#}
{%- set replaced = crm_kpis.incremental_replace_config(key=['opportunity_id', 'snapshot_date'], partition=none,
                                                       keys_can_vanish=true) %}
{%- do replaced.update({'pre_hook': "{{ crm_kpis.prune_pipeline_snapshots() }}"}) %}
{{ config(**replaced) }}

with intervals as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunity_history_intervals') }}
),

opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible
),

fx_rates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_fx_rates_monthly') }}
),

snapshots as (
    {{ crm_kpis.pipeline_snapshot_dates() }}
),

{% if is_incremental() %}
{{- crm_kpis.require_incremental_column('built_at') }}
changed_deals as (
    {{ crm_kpis.pipeline_snapshot_changed_deals() }}
),

held_dates as (
    select distinct snapshot_date from {{ this }}
),

-- a changed deal at every date, the others at the dates not held yet: two joins, each of a small side
changed_intervals as (
    {{ crm_kpis.rows_to_rebuild('intervals', 'opportunity_id', 'changed_deals') }}
),

unchanged_intervals as (
    select * from intervals
    where not exists (select 1 from changed_deals where changed_deals.opportunity_id = intervals.opportunity_id)
),

new_snapshots as (
    select * from snapshots where snapshot_date not in (select snapshot_date from held_dates)
),
{%- set pairs = [('changed_intervals', 'snapshots'), ('unchanged_intervals', 'new_snapshots')] %}
{%- else %}
{%- set pairs = [('intervals', 'snapshots')] %}
{%- endif %}

open_at_snapshot as (
    {%- for intervals, snapshots in pairs %}
    select
        {{ snapshots }}.snapshot_date,
        {{ snapshots }}.snapshot_month,
        {{ snapshots }}.is_month_end,
        {{ intervals }}.opportunity_id,
        {{ intervals }}.stage,
        {{ intervals }}.stage_order,
        {{ intervals }}.amount,
        {{ intervals }}.currency,
        {{ intervals }}.effective_probability,
        {{ intervals }}.expected_close_date,
        {{ intervals }}.forecast_category
    from {{ intervals }}
    inner join {{ snapshots }}
        on {{ intervals }}.valid_from_local < {{ snapshots }}.snapshot_at_local
        and ({{ intervals }}.valid_to_local is null or {{ intervals }}.valid_to_local >= {{ snapshots }}.snapshot_at_local)
    where not {{ intervals }}.is_closed_stage
        and coalesce({{ intervals }}.forecast_category, 'pipeline') <> 'omitted'
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    open_at_snapshot.snapshot_date,
    open_at_snapshot.snapshot_month,
    open_at_snapshot.is_month_end,
    open_at_snapshot.opportunity_id,
    opportunities.owner_id,
    opportunities.product_line,
    opportunities.segment,
    open_at_snapshot.stage,
    open_at_snapshot.stage_order,
    open_at_snapshot.forecast_category,
    open_at_snapshot.expected_close_date,
    cast({{ dbt.date_trunc('quarter', 'open_at_snapshot.expected_close_date') }} as date) as expected_close_quarter,
    open_at_snapshot.effective_probability as probability,
    open_at_snapshot.amount,
    open_at_snapshot.currency,
    {{ crm_kpis.to_money('open_at_snapshot.amount * fx_rates.rate_to_reporting') }} as amount_reporting,
    {{ crm_kpis.to_money('open_at_snapshot.amount * fx_rates.rate_to_reporting * open_at_snapshot.effective_probability / 100.0') }} as weighted_amount_reporting,
    fx_rates.loaded_at as rate_loaded_at,
    {{ crm_kpis.built_at() }} as built_at
from open_at_snapshot
inner join opportunities on open_at_snapshot.opportunity_id = opportunities.opportunity_id
left join fx_rates
    on open_at_snapshot.currency = fx_rates.currency
    and open_at_snapshot.snapshot_month = fx_rates.rate_month

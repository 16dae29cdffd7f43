{#- The change capture of int_pipeline_snapshots, shared by its pre-hook (which deletes what is rebuilt) and
    its body (which rebuilds it), so both see the same changes. -#}

{#- The snapshot dates of this build: every month end from the month of the first KPI-eligible deal to
    before the as-of date, and the as-of date (the state at midnight starting the next day). -#}
{% macro pipeline_snapshot_dates() -%}
    select
        snapshot_date,
        snapshot_month,
        is_month_end,
        cast({{ dbt.dateadd('day', 1, 'snapshot_date') }} as {{ dbt.type_timestamp() }}) as snapshot_at_local
    from (
        select
            dates.month_end as snapshot_date,
            dates.month_start as snapshot_month,
            true as is_month_end
        from {{ ref('dim_date') }} as dates
        where dates.date_day = dates.month_start
            and dates.month_start >= (
                select min(created_month) from {{ ref('int_opportunities_enriched') }} where is_kpi_eligible)
            and dates.month_end < {{ crm_kpis.as_of_date() }}
        union all
        select
            {{ crm_kpis.as_of_date() }} as snapshot_date,
            cast({{ dbt.date_trunc('month', crm_kpis.as_of_date()) }} as date) as snapshot_month,
            {{ crm_kpis.as_of_date() }} = cast({{ dbt.last_day(crm_kpis.as_of_date(), 'month') }} as date) as is_month_end
    ) as snapshot_dates
{%- endmacro %}

{#- The deals whose snapshots an incremental build replaces at every date: their intervals or enriched row
    were rebuilt since the table's last build (built_at), or they were open in a month whose FX rate landed
    since the newest rate the table holds (rate_loaded_at; an interval overlapping the month is enough). -#}
{% macro pipeline_snapshot_changed_deals() -%}
    {%- set intervals = ref('int_opportunity_history_intervals') -%}
    select opportunity_id from {{ intervals }}
    where built_at > {{ crm_kpis.incremental_watermark('built_at') }}
    union
    select opportunity_id from {{ ref('int_opportunities_enriched') }}
    where built_at > {{ crm_kpis.incremental_watermark('built_at') }}
    union
    select intervals.opportunity_id
    from {{ intervals }} as intervals
    inner join {{ ref('int_fx_rates_monthly') }} as fx_rates
        on intervals.currency = fx_rates.currency
        and intervals.valid_from_local < cast({{ dbt.dateadd('month', 1, 'fx_rates.rate_month') }} as {{ dbt.type_timestamp() }})
        and (intervals.valid_to_local is null or intervals.valid_to_local > cast(fx_rates.rate_month as {{ dbt.type_timestamp() }}))
    where fx_rates.loaded_at > {{ crm_kpis.incremental_watermark('rate_loaded_at') }}
{%- endmacro %}

{#- The pre-hook: on the engines that delete, the rows an incremental build replaces or that are gone: of the
    changed deals (a changed deal may be open at fewer dates now), of deals no longer KPI-eligible or deleted,
    and of dates no longer snapshotted (yesterday's as-of date). Where the engine replaces partitions the
    model is a table (keys_can_vanish), so the hook never runs there. -#}
{% macro prune_pipeline_snapshots() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as target
    where target.snapshot_date not in (select snapshot_date from ({{ crm_kpis.pipeline_snapshot_dates() }}) as current_dates)
        or target.opportunity_id in ({{ crm_kpis.pipeline_snapshot_changed_deals() }})
        or not exists (
            select 1 from {{ ref('int_opportunities_enriched') }} as deals
            where deals.opportunity_id = target.opportunity_id and deals.is_kpi_eligible)
    {%- endif -%}
{%- endmacro %}

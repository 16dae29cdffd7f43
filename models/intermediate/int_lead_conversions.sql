{#- One row per lead with its cohort month (creation, business time zone) and what became of it as of
    the build. A lead's opportunity is, in this order:
    1. its converted_opportunity_id (the CRM's own conversion);
    2. else the first KPI-eligible opportunity naming it in opportunities.lead_id (exports that keep the
       lead on the deal and have no conversion columns);
    3. else, when it names only an account, that account's first KPI-eligible opportunity.
    It converted if it has a converted_at or an opportunity of 1 or 2, on converted_at, else on that
    opportunity's creation; it became a customer if its opportunity is won and KPI-eligible. "First"
    ranks only KPI-eligible deals by creation: a deal excluded from every KPI (no FX rate, a negative
    amount, ...; counted in fct_data_quality_issues) neither converts a lead nor makes or blocks a
    customer, so the lead KPIs agree with win rate and CAC, which never see it.

    Incremental by lead_id (macros/incremental.sql): a run rebuilds the leads landed since the last run
    (watermark: the newest source_loaded_at it holds) and the leads a changed deal (an enriched row
    landed since) can decide: by its id, its lead or its account, now, and the leads its previous
    version decided (deciding_opportunity_id), so a deal that moves to another lead or account, drops
    out of the KPIs or is deleted releases its old leads. Deleted leads lose their row by a pre-hook
    delete; on Spark on parquet the model is rebuilt whole. -#}
{%- set replaced = crm_kpis.incremental_replace_config(key='lead_id', partition=none, keys_can_vanish=true) %}
{%- do replaced.update({'pre_hook': "{{ crm_kpis.delete_vanished_keys('lead_id', ref('int_leads_unioned')) }}"}) %}
{{ config(**replaced) }}

with all_leads as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_leads_unioned') }}
),

opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
),

{% if is_incremental() %}
{{- crm_kpis.require_incremental_column('deciding_opportunity_id') }}
{{- crm_kpis.require_incremental_column('built_at') }}
watermark as (
    select {{ crm_kpis.incremental_watermark('source_loaded_at') }} as loaded_at
),

changed_opportunities as (
    select opportunity_id, lead_id, account_id from opportunities
    where {{ crm_kpis.landed_since('source_loaded_at', 'watermark') }}
),

changed_leads as (
    -- one scan of the leads (a view over the raw table with its source mapping) for the four reasons
    select lead_id from all_leads
    where {{ crm_kpis.landed_since('loaded_at', 'watermark') }}
    {%- for lead_column, deal_column in [('converted_opportunity_id', 'opportunity_id'), ('lead_id', 'lead_id'),
                                         ('converted_account_id', 'account_id')] %}
        or {{ lead_column }} in (select {{ deal_column }} from changed_opportunities)
    {%- endfor %}
    union
    -- the leads a changed or deleted deal decided before
    select previous.lead_id
    from {{ this }} as previous
    where previous.deciding_opportunity_id in (select opportunity_id from changed_opportunities)
        or (previous.deciding_opportunity_id is not null and not exists (
            select 1 from opportunities where opportunities.opportunity_id = previous.deciding_opportunity_id))
),
{% endif %}

leads as (
    {{ crm_kpis.rows_to_rebuild('all_leads', 'lead_id', 'changed_leads') }}
),

eligible_opportunities as (
    select opportunity_id, account_id, lead_id, created_at, is_won, source_loaded_at
    from opportunities
    where is_kpi_eligible
    {% if is_incremental() %}
        -- every deal of the leads and accounts rebuilt, so each one's first deal is still ranked among all of its own
        and (lead_id in (select lead_id from leads) or account_id in (select converted_account_id from leads))
    {% endif %}
),

{%- for key in ['lead_id', 'account_id'] %}
{{ key | replace('_id', '') }}_first_opportunities as (
    select {{ key }}, opportunity_id, created_at, is_won, source_loaded_at
    from (
        select
            eligible_opportunities.*,
            row_number() over (partition by {{ key }} order by created_at nulls last, opportunity_id) as opportunity_rank
        from eligible_opportunities
        where {{ key }} is not null
    ) as ranked
    where opportunity_rank = 1
),
{% endfor %}
converted as (
    select
        leads.*,
        {{ crm_kpis.to_business_date('leads.created_at') }} as created_date,
        {{ crm_kpis.to_business_date(
            'coalesce(leads.converted_at, converted_opportunity.created_at, lead_first.created_at)') }} as converted_date,
        leads.converted_at is not null
            or leads.converted_opportunity_id is not null
            or lead_first.opportunity_id is not null as is_converted,
        case
            when leads.converted_opportunity_id is not null
                then coalesce(converted_opportunity.is_won and converted_opportunity.is_kpi_eligible, false)
            when lead_first.opportunity_id is not null then lead_first.is_won
            else coalesce(account_first.is_won, false)
        end as is_customer,
        -- at most one of the three is there (the last two join only without a converted_opportunity_id); a
        -- converted_opportunity_id naming no deal decides nothing to release
        coalesce(converted_opportunity.opportunity_id, lead_first.opportunity_id, account_first.opportunity_id) as deciding_opportunity_id,
        greatest(leads.loaded_at, coalesce(converted_opportunity.source_loaded_at, lead_first.source_loaded_at,
            account_first.source_loaded_at)) as source_loaded_at
    from leads
    left join opportunities as converted_opportunity
        on leads.converted_opportunity_id = converted_opportunity.opportunity_id
    left join lead_first_opportunities as lead_first
        on leads.converted_opportunity_id is null
        and leads.lead_id = lead_first.lead_id
    left join account_first_opportunities as account_first
        on leads.converted_opportunity_id is null
        and leads.converted_account_id = account_first.account_id
)

select
    lead_id,
    lead_source,
    owner_id,
    created_date,
    cast({{ dbt.date_trunc('month', 'created_date') }} as date) as cohort_month,
    is_converted,
    converted_date,
    case when is_converted then {{ dbt.datediff('created_date', 'converted_date', 'day') }} end as days_to_convert,
    coalesce(is_converted and {{ dbt.datediff('created_date', 'converted_date', 'day') }} <= 30, false) as is_converted_within_30_days,
    coalesce(is_converted and {{ dbt.datediff('created_date', 'converted_date', 'day') }} <= 90, false) as is_converted_within_90_days,
    is_customer,
    deciding_opportunity_id,
    source_loaded_at,
    {{ crm_kpis.built_at() }} as built_at
from converted

{#- One row per (not deleted) opportunity with business-time-zone dates, amounts in the reporting
    currency at the close month's rate (created month's while open), its account, owner and lead
    source, and one flag per data-quality defect. KPIs read only rows with is_kpi_eligible.

    Incremental by opportunity_id (macros/incremental.sql): a run rebuilds the deals with anything
    landed since the last run (watermark: the newest source_loaded_at it holds, the newest landing
    behind a row): the deal itself, its account, owner or lead, or the FX rate of its close or created
    month (a late rate, also the reporting currency's, which moves every cross rate of the month; the
    created month's rate is read downstream, where built_at says what changed). A row whose source
    has no landing time (an EL table without a sync column) counts as changed on every run. Deals gone
    from the sources (deleted, or hard-deleted in the CRM: SuperOffice) lose their row by a pre-hook
    delete, and a deal whose account, owner or lead disappeared is rebuilt (it is an orphan now); on
    Spark on parquet, which cannot delete, the model is rebuilt whole. A changed seed (stages, stage
    map, seed FX rates) or setting needs `crm-kpis refresh --full`. -#}
{%- set replaced = crm_kpis.incremental_replace_config(key='opportunity_id', partition=none, keys_can_vanish=true) %}
{%- do replaced.update({'pre_hook': "{{ crm_kpis.delete_vanished_keys('opportunity_id', ref('int_opportunities_unioned')) }}"}) %}
{{ config(**replaced) }}

with all_opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_unioned') }}
),

stages as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('opportunity_stages') }}
),

accounts as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_accounts_unioned') }}
),

users as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_users_unioned') }}
),

leads as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_leads_unioned') }}
),

fx_rates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_fx_rates_monthly') }}
),

{% if is_incremental() %}
{{- crm_kpis.require_incremental_column('source_loaded_at') }}
{{- crm_kpis.require_incremental_column('built_at') }}
watermark as (
    select {{ crm_kpis.incremental_watermark('source_loaded_at') }} as loaded_at
),

{#- the dimensions a deal reads: (CTE, the deal's column, the dimension's key, the deal had one) -#}
{%- set dimensions = [('accounts', 'account_id', 'account_id', 'not previous.is_orphan_account'),
                      ('users', 'owner_id', 'user_id', 'not previous.is_orphan_owner'),
                      ('leads', 'lead_id', 'lead_id', "previous.lead_source <> 'none'")] %}
changed_opportunities as (
    -- one scan of the deals (a view over the raw table) for the deal and its three dimensions
    select opportunity_id from all_opportunities
    where {{ crm_kpis.landed_since('loaded_at', 'watermark') }}
    {%- for dimension, deal_column, key, _ in dimensions %}
        or {{ deal_column }} in (select {{ key }} from {{ dimension }} where {{ crm_kpis.landed_since(dimension ~ '.loaded_at', 'watermark') }})
    {%- endfor %}
    union
    -- a deal whose account, owner or lead is gone: an orphan now
    select previous.opportunity_id
    from {{ this }} as previous
    where
    {%- for dimension, deal_column, key, had_one in dimensions %}
        {% if not loop.first %}or {% endif %}({{ had_one }} and not exists (
            select 1 from {{ dimension }} where {{ dimension }}.{{ key }} = previous.{{ deal_column }}))
    {%- endfor %}
    union
    -- a late FX rate: the deals converted at that currency and month (a changed deal is in the first part), and
    -- the deals created in it, whose created amount fct_opportunities and pipeline created convert at it
    select previous.opportunity_id
    from {{ this }} as previous
    inner join fx_rates
        on previous.currency = fx_rates.currency
        and fx_rates.rate_month in (previous.close_month, previous.created_month)
    where fx_rates.loaded_at > (select loaded_at from watermark)
),
{% endif %}

opportunities as (
    {{ crm_kpis.rows_to_rebuild('all_opportunities', 'opportunity_id', 'changed_opportunities') }}
),

dated as (
    select
        opportunities.*,
        {{ crm_kpis.to_business_date('opportunities.created_at') }} as created_date,
        {{ crm_kpis.to_business_date('opportunities.closed_at') }} as close_date
    from opportunities
),

enriched as (
    select
        dated.*,
        cast({{ dbt.date_trunc('month', 'dated.close_date') }} as date) as close_month,
        cast({{ dbt.date_trunc('month', 'dated.created_date') }} as date) as created_month,
        stages.stage_order,
        stages.default_probability,
        accounts.segment,
        accounts.industry,
        accounts.country_code,
        coalesce(leads.lead_source, 'none') as lead_source,
        greatest(dated.loaded_at, accounts.loaded_at, users.loaded_at, leads.loaded_at) as related_loaded_at,
        stages.stage is null as is_unknown_stage,
        dated.amount < 0 as is_negative_amount,
        accounts.account_id is null as is_orphan_account,
        users.user_id is null as is_orphan_owner,
        dated.is_closed and dated.closed_at is null as is_closed_without_date,
        dated.created_at is null as is_missing_created_at,
        dated.closed_at is not null and dated.closed_at < dated.created_at as is_close_before_creation
    from dated
    left join stages on dated.stage = stages.stage
    left join accounts on dated.account_id = accounts.account_id
    left join users on dated.owner_id = users.user_id
    left join leads on dated.lead_id = leads.lead_id
)

select
    enriched.*,
    fx_rates.rate_to_reporting,
    greatest(enriched.related_loaded_at, fx_rates.loaded_at) as source_loaded_at,
    {{ crm_kpis.built_at() }} as built_at,
    {{ crm_kpis.to_money('enriched.amount * fx_rates.rate_to_reporting') }} as amount_reporting,
    not (enriched.is_unknown_stage or enriched.is_negative_amount or enriched.is_closed_without_date
        or enriched.is_missing_created_at)
        and fx_rates.rate_to_reporting is not null as is_kpi_eligible
from enriched
left join fx_rates
    on enriched.currency = fx_rates.currency
    and coalesce(enriched.close_month, enriched.created_month) = fx_rates.rate_month

{#- The shared entities: every staging model must return these columns, in any order. Key columns
    (`keys`) are namespaced by source (`salesforce:006...`) for every source but `files`, so several
    CRMs can be combined without key collisions; `files` keys stay as landed. -#}
{% macro crm_entity_columns() -%}
    {%- set s = dbt.type_string() -%}
    {%- set ts = dbt.type_timestamp() -%}
    {%- set n = dbt.type_numeric() -%}
    {%- set f = crm_kpis.type_double() -%}
    {%- set b = dbt.type_boolean() -%}
    {%- set i = dbt.type_bigint() -%}
    {{ return({
        'users': {'keys': ['user_id', 'manager_id'], 'columns': [
            ('user_id', s), ('full_name', s), ('email', s), ('team', s), ('region', s), ('manager_id', s),
            ('hired_date', 'date'), ('is_active', b), ('updated_at', ts), ('loaded_at', ts)]},
        'accounts': {'keys': ['account_id', 'owner_id'], 'columns': [
            ('account_id', s), ('account_name', s), ('industry', s), ('segment', s), ('country_code', s),
            ('owner_id', s), ('created_at', ts), ('updated_at', ts), ('loaded_at', ts)]},
        'leads': {'keys': ['lead_id', 'owner_id', 'converted_account_id', 'converted_opportunity_id'], 'columns': [
            ('lead_id', s), ('created_at', ts), ('source_value', s), ('lead_source', s), ('status', s), ('owner_id', s),
            ('company_name', s), ('converted_at', ts), ('converted_account_id', s), ('converted_opportunity_id', s),
            ('updated_at', ts), ('loaded_at', ts)]},
        'opportunities': {'keys': ['opportunity_id', 'account_id', 'owner_id', 'lead_id'], 'columns': [
            ('opportunity_id', s), ('account_id', s), ('owner_id', s), ('lead_id', s), ('opportunity_name', s),
            ('opportunity_type', s), ('product_line', s), ('stage', s), ('amount', n), ('currency', s),
            ('probability', f), ('expected_close_date', 'date'), ('created_at', ts), ('closed_at', ts),
            ('is_closed', b), ('is_won', b), ('lost_reason', s), ('forecast_category', s), ('updated_at', ts),
            ('loaded_at', ts)]},
        'opportunity_history': {'keys': ['opportunity_id'], 'columns': [
            ('opportunity_id', s), ('changed_at', ts), ('stage', s), ('amount', n), ('currency', s),
            ('expected_close_date', 'date'), ('probability', f), ('forecast_category', s), ('loaded_at', ts)]},
        'products': {'keys': ['product_id'], 'columns': [
            ('product_id', s), ('product_name', s), ('product_line', s), ('is_recurring', b)]},
        'opportunity_line_items': {'keys': ['line_item_id', 'opportunity_id', 'product_id'], 'columns': [
            ('line_item_id', s), ('opportunity_id', s), ('product_id', s), ('quantity', f), ('unit_price', n),
            ('total_price', n), ('currency', s)]},
        'activities': {'keys': ['activity_id', 'owner_id', 'account_id', 'opportunity_id', 'lead_id'], 'columns': [
            ('activity_id', s), ('activity_type_value', s), ('activity_type', s), ('occurred_at', ts),
            ('is_completed', b), ('owner_id', s), ('account_id', s), ('opportunity_id', s), ('lead_id', s),
            ('duration_minutes', i), ('updated_at', ts), ('loaded_at', ts)]},
        'quotas': {'keys': ['user_id'], 'columns': [
            ('user_id', s), ('period_start', 'date'), ('period_end', 'date'), ('quota_amount', n), ('currency', s)]},
        'subscriptions': {'keys': ['subscription_id', 'account_id', 'product_id'], 'columns': [
            ('subscription_id', s), ('account_id', s), ('product_id', s), ('start_date', 'date'), ('end_date', 'date'),
            ('mrr_amount', n), ('currency', s), ('updated_at', ts), ('loaded_at', ts)]},
        'acquisition_spend': {'keys': [], 'columns': [
            ('spend_month', 'date'), ('cost_type', s), ('channel', s), ('amount', n), ('currency', s)]},
        'forecast_submissions': {'keys': ['user_id'], 'columns': [
            ('user_id', s), ('period_start', 'date'), ('period_end', 'date'), ('submitted_at', ts),
            ('forecast_amount', n), ('currency', s), ('forecast_category', s)]},
        'fx_rates': {'keys': [], 'columns': [('currency', s), ('rate_month', 'date'), ('rate', crm_kpis.type_fx_rate()), ('loaded_at', ts)]},
        'deleted_records': {'keys': ['record_id'], 'columns': [
            ('table_name', s), ('record_id', s), ('loaded_at', ts)]},
    }) }}
{%- endmacro %}

{#- `select` of one shared entity from every enabled source that provides it, with source_system.
    With none, a typed empty result, so downstream models build (and report zero) all the same. -#}
{% macro union_crm_sources(entity) -%}
    {%- set spec = crm_kpis.crm_entity_columns()[entity] -%}
    {%- set providers = [] -%}
    {%- for name in crm_kpis.enabled_crm_sources() if entity in crm_kpis.crm_source_entities()[name] -%}
        {%- do providers.append(name) -%}
    {%- endfor -%}
    {%- for name in providers %}
    select
        {%- for column, data_type in spec['columns'] %}
        {% if column in spec['keys'] and name != 'files' -%}
        {{ dbt.concat(["'" ~ name ~ ":'", column]) }}
        {%- else -%}
        cast({{ column }} as {{ data_type }})
        {%- endif %} as {{ column }},
        {%- endfor %}
        '{{ name }}' as source_system
    from {{ ref('stg_' ~ name ~ '__' ~ entity) }}
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select
        {%- for column, data_type in spec['columns'] %}
        cast(null as {{ data_type }}) as {{ column }},
        {%- endfor %}
        cast(null as {{ dbt.type_string() }}) as source_system
    where 1 = 0
    {%- endfor %}
{%- endmacro %}

{#- union_crm_sources for an entity with a `stage` column, the stage put onto the funnel of seed
    opportunity_stages through seed stage_map (stage names differ per CRM). A stage stage_map does
    not list passes through unchanged, and counts as unknown_stage until it is mapped. -#}
{% macro union_crm_sources_with_funnel_stages(entity) -%}
with {{ entity }} as (
    {{ crm_kpis.union_crm_sources(entity) }}
),

stage_map as (
    select * from {{ ref('stage_map') }}
)

select
    {%- for column, data_type in crm_kpis.crm_entity_columns()[entity]['columns'] if column != 'stage' %}
    {{ entity }}.{{ column }},
    {%- endfor %}
    coalesce(stage_map.stage, {{ entity }}.stage) as stage,
    {{ entity }}.stage as source_stage,
    {{ entity }}.source_system
from {{ entity }}
left join stage_map
    on {{ entity }}.source_system = stage_map.source_system
    and {{ entity }}.stage = stage_map.source_stage
{%- endmacro %}

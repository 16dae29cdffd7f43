{#- Stage names differ per CRM: seed stage_map puts each source's stage onto the funnel of seed
    opportunity_stages; a stage it does not list passes through unchanged (and counts as unknown_stage
    in the data-quality fact until it is mapped). -#}
{{ config(materialized='view') }}

with opportunity_history as (
    {{ crm_kpis.union_crm_sources('opportunity_history') }}
),

stage_map as (
    select * from {{ ref('stage_map') }}
)

select
    {%- for column, data_type in crm_kpis.crm_entity_columns()['opportunity_history']['columns'] if column != 'stage' %}
    opportunity_history.{{ column }},
    {%- endfor %}
    coalesce(stage_map.stage, opportunity_history.stage) as stage,
    opportunity_history.stage as source_stage,
    opportunity_history.source_system
from opportunity_history
left join stage_map
    on opportunity_history.source_system = stage_map.source_system
    and opportunity_history.stage = stage_map.source_stage

{#- Stage names differ per CRM: seed stage_map puts each source's stage onto the funnel of seed
    opportunity_stages; a stage it does not list passes through unchanged (and counts as unknown_stage
    in the data-quality fact until it is mapped). -#}
{{ config(materialized='view') }}

with opportunities as (
    {{ crm_kpis.union_crm_sources('opportunities') }}
),

stage_map as (
    select * from {{ ref('stage_map') }}
)

select
    {%- for column, data_type in crm_kpis.crm_entity_columns()['opportunities']['columns'] if column != 'stage' %}
    opportunities.{{ column }},
    {%- endfor %}
    coalesce(stage_map.stage, opportunities.stage) as stage,
    opportunities.stage as source_stage,
    opportunities.source_system
from opportunities
left join stage_map
    on opportunities.source_system = stage_map.source_system
    and opportunities.stage = stage_map.source_stage

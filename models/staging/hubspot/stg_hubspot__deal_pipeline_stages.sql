{#- Deal pipeline stages with their outcome: won when closed_won; closed when is_closed, or (where the
    connector does not sync is_closed) when won or at probability 0 / 1. Probability is 0-1 here.
    Deleted stages are kept: deals and their history still point at them. -#}
{%- set stage_table = source('hubspot', 'deal_pipeline_stage') %}

with stages as (
    select
        cast(stage_id as {{ dbt.type_string() }}) as stage_id,
        cast(pipeline_id as {{ dbt.type_string() }}) as pipeline_id,
        cast(label as {{ dbt.type_string() }}) as label,
        cast(probability as {{ crm_kpis.type_double() }}) as probability,
        coalesce({{ crm_kpis.to_boolean('closed_won') }}, false) as is_won,
        coalesce(
            {{ crm_kpis.to_boolean(crm_kpis.optional_column(stage_table, 'is_closed', dbt.type_string())) }},
            {{ crm_kpis.to_boolean('closed_won') }} or cast(probability as {{ crm_kpis.type_double() }}) in (0, 1),
            false
        ) as is_closed
    from {{ stage_table }}
)

select
    stages.*,
    case when is_won then 'Closed Won' when is_closed then 'Closed Lost' else label end as deal_stage
from stages

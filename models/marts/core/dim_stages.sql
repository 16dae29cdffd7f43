{#- The funnel (seed opportunity_stages) as a dimension, so BI tools and the quality gate read stages
    from the marts like every other dimension. -#}
select
    stage,
    stage_order,
    default_probability,
    is_closed,
    is_won
from {{ ref('opportunity_stages') }}

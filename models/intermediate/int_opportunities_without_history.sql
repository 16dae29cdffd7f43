{#- Opportunities whose source gives no history row at all (an export, a sparse CRM), with the
    values that matter at a point in time. The model snp_opportunity_versions keeps each
    version of them (SCD2 on updated_at), so their history exists from the first refresh on. -#}
{{ config(materialized='view') }}

with opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_unioned') }}
),

history as (
    select distinct opportunity_id from {{ ref('int_opportunity_history_unioned') }}
)

select
    opportunities.opportunity_id,
    opportunities.stage,
    opportunities.amount,
    opportunities.currency,
    opportunities.expected_close_date,
    opportunities.probability,
    opportunities.forecast_category,
    opportunities.created_at,
    coalesce(opportunities.updated_at, opportunities.loaded_at, opportunities.created_at) as updated_at,
    opportunities.loaded_at,
    opportunities.source_system
from opportunities
left join history on opportunities.opportunity_id = history.opportunity_id
where history.opportunity_id is null
    and opportunities.created_at is not null

with source as (
    select * from {{ source('files', 'leads') }}
),

lead_source_map as (
    select * from {{ ref('lead_source_map') }}
)

select
    source.lead_id,
    source.created_at,
    source.source as source_value,
    coalesce(lead_source_map.lead_source, 'other') as lead_source,
    source.status,
    source.owner_id,
    source.company_name,
    source.converted_at,
    source.converted_account_id,
    source.converted_opportunity_id,
    source.updated_at,
    source._loaded_at as loaded_at
from source
left join lead_source_map on lower(source.source) = lead_source_map.source_value
where not coalesce(source.is_deleted, false)

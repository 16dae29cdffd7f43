with source as (
    select * from {{ source('files', 'activities') }}
),

activity_type_map as (
    select * from {{ ref('activity_type_map') }}
)

select
    source.activity_id,
    source.activity_type as activity_type_value,
    coalesce(activity_type_map.activity_type, 'other') as activity_type,
    source.occurred_at,
    coalesce(source.completed, false) as is_completed,
    source.owner_id,
    source.account_id,
    source.opportunity_id,
    source.lead_id,
    source.duration_minutes,
    source.updated_at,
    source._loaded_at as loaded_at
from source
left join activity_type_map on lower(source.activity_type) = activity_type_map.source_value
where not coalesce(source.is_deleted, false)

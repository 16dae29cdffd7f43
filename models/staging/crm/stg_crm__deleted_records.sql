{#- Soft-deleted rows of the landed tables, by key: the data-quality fact counts them and the
    incremental activities model removes them. The only staging model that reads several raw tables:
    it holds one fact (this key was deleted) that every source reports in its own way. -#}
with opportunities as (
    select 'opportunities' as table_name, opportunity_id as record_id, _loaded_at as loaded_at, is_deleted
    from {{ source('crm', 'opportunities') }}
),

accounts as (
    select 'accounts' as table_name, account_id as record_id, _loaded_at as loaded_at, is_deleted
    from {{ source('crm', 'accounts') }}
),

activities as (
    select 'activities' as table_name, activity_id as record_id, _loaded_at as loaded_at, is_deleted
    from {{ source('crm', 'activities') }}
),

leads as (
    select 'leads' as table_name, lead_id as record_id, _loaded_at as loaded_at, is_deleted
    from {{ source('crm', 'leads') }}
),

all_records as (
    select * from opportunities
    union all
    select * from accounts
    union all
    select * from activities
    union all
    select * from leads
)

select table_name, record_id, loaded_at
from all_records
where is_deleted

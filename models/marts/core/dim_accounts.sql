with accounts as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_accounts_unioned') }}
)

select
    account_id,
    account_name,
    industry,
    segment,
    country_code,
    owner_id,
    {{ crm_kpis.to_business_date('created_at') }} as created_date,
    source_system
from accounts

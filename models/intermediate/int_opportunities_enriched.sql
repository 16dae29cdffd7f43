{#- One row per (not deleted) opportunity with business-time-zone dates, amounts in the reporting
    currency at the close month's rate (created month's while open), its account, owner and lead
    source, and one flag per data-quality defect. KPIs read only rows with is_kpi_eligible. -#}
with opportunities as (
    select * from {{ ref('int_opportunities_unioned') }}
),

stages as (
    select * from {{ ref('opportunity_stages') }}
),

accounts as (
    select * from {{ ref('int_accounts_unioned') }}
),

users as (
    select * from {{ ref('int_users_unioned') }}
),

leads as (
    select * from {{ ref('int_leads_unioned') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_monthly') }}
),

dated as (
    select
        opportunities.*,
        {{ crm_kpis.to_business_date('opportunities.created_at') }} as created_date,
        {{ crm_kpis.to_business_date('opportunities.closed_at') }} as close_date
    from opportunities
),

enriched as (
    select
        dated.*,
        cast({{ dbt.date_trunc('month', 'dated.close_date') }} as date) as close_month,
        cast({{ dbt.date_trunc('month', 'dated.created_date') }} as date) as created_month,
        stages.stage_order,
        stages.default_probability,
        accounts.segment,
        accounts.industry,
        accounts.country_code,
        coalesce(leads.lead_source, 'none') as lead_source,
        stages.stage is null as is_unknown_stage,
        dated.amount < 0 as is_negative_amount,
        accounts.account_id is null as is_orphan_account,
        users.user_id is null as is_orphan_owner,
        dated.is_closed and dated.closed_at is null as is_closed_without_date,
        dated.created_at is null as is_missing_created_at,
        dated.closed_at is not null and dated.closed_at < dated.created_at as is_close_before_creation
    from dated
    left join stages on dated.stage = stages.stage
    left join accounts on dated.account_id = accounts.account_id
    left join users on dated.owner_id = users.user_id
    left join leads on dated.lead_id = leads.lead_id
)

select
    enriched.*,
    fx_rates.rate_to_reporting,
    {{ crm_kpis.to_money('enriched.amount * fx_rates.rate_to_reporting') }} as amount_reporting,
    not (enriched.is_unknown_stage or enriched.is_negative_amount or enriched.is_closed_without_date
        or enriched.is_missing_created_at)
        and fx_rates.rate_to_reporting is not null as is_kpi_eligible
from enriched
left join fx_rates
    on enriched.currency = fx_rates.currency
    and coalesce(enriched.close_month, enriched.created_month) = fx_rates.rate_month

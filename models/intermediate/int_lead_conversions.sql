{#- One row per lead with its cohort month (creation, business time zone) and what became of it as of
    the build: converted (a converted_at or converted opportunity), days to convert, and whether it
    became a customer: its converted opportunity is won, or, when it names only an account, that
    account's first opportunity is won. -#}
with leads as (
    select * from {{ ref('int_leads_unioned') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_enriched') }}
),

account_first_opportunities as (
    select account_id, opportunity_id, is_won
    from (
        select
            account_id,
            opportunity_id,
            is_won,
            row_number() over (partition by account_id order by created_at, opportunity_id) as opportunity_rank
        from opportunities
        where account_id is not null
    ) as ranked
    where opportunity_rank = 1
),

converted as (
    select
        leads.*,
        {{ crm_kpis.to_business_date('leads.created_at') }} as created_date,
        {{ crm_kpis.to_business_date('leads.converted_at') }} as converted_date,
        leads.converted_at is not null or leads.converted_opportunity_id is not null as is_converted,
        coalesce(converted_opportunity.is_won and converted_opportunity.is_kpi_eligible, account_first.is_won, false) as is_customer
    from leads
    left join opportunities as converted_opportunity
        on leads.converted_opportunity_id = converted_opportunity.opportunity_id
    left join account_first_opportunities as account_first
        on leads.converted_opportunity_id is null
        and leads.converted_account_id = account_first.account_id
)

select
    lead_id,
    lead_source,
    owner_id,
    created_date,
    cast({{ dbt.date_trunc('month', 'created_date') }} as date) as cohort_month,
    is_converted,
    converted_date,
    case when is_converted then {{ dbt.datediff('created_date', 'converted_date', 'day') }} end as days_to_convert,
    coalesce(is_converted and {{ dbt.datediff('created_date', 'converted_date', 'day') }} <= 30, false) as is_converted_within_30_days,
    coalesce(is_converted and {{ dbt.datediff('created_date', 'converted_date', 'day') }} <= 90, false) as is_converted_within_90_days,
    is_customer
from converted

{#- One row per lead with its cohort month (creation, business time zone) and what became of it as of
    the build. A lead's opportunity is, in this order:
    1. its converted_opportunity_id (the CRM's own conversion);
    2. else the first KPI-eligible opportunity naming it in opportunities.lead_id (exports that keep the
       lead on the deal and have no conversion columns);
    3. else, when it names only an account, that account's first KPI-eligible opportunity.
    It converted if it has a converted_at or an opportunity of 1 or 2, on converted_at, else on that
    opportunity's creation; it became a customer if its opportunity is won and KPI-eligible. "First"
    ranks only KPI-eligible deals by creation: a deal excluded from every KPI (no FX rate, a negative
    amount, ...; counted in fct_data_quality_issues) neither converts a lead nor makes or blocks a
    customer, so the lead KPIs agree with win rate and CAC, which never see it. -#}
with leads as (
    select * from {{ ref('int_leads_unioned') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_enriched') }}
),

eligible_opportunities as (
    select opportunity_id, account_id, lead_id, created_at, is_won
    from opportunities
    where is_kpi_eligible
),

{%- for key in ['lead_id', 'account_id'] %}
{{ key | replace('_id', '') }}_first_opportunities as (
    select {{ key }}, opportunity_id, created_at, is_won
    from (
        select
            eligible_opportunities.*,
            row_number() over (partition by {{ key }} order by created_at nulls last, opportunity_id) as opportunity_rank
        from eligible_opportunities
        where {{ key }} is not null
    ) as ranked
    where opportunity_rank = 1
),
{% endfor %}
converted as (
    select
        leads.*,
        {{ crm_kpis.to_business_date('leads.created_at') }} as created_date,
        {{ crm_kpis.to_business_date(
            'coalesce(leads.converted_at, converted_opportunity.created_at, lead_first.created_at)') }} as converted_date,
        leads.converted_at is not null
            or leads.converted_opportunity_id is not null
            or lead_first.opportunity_id is not null as is_converted,
        case
            when leads.converted_opportunity_id is not null
                then coalesce(converted_opportunity.is_won and converted_opportunity.is_kpi_eligible, false)
            when lead_first.opportunity_id is not null then lead_first.is_won
            else coalesce(account_first.is_won, false)
        end as is_customer
    from leads
    left join opportunities as converted_opportunity
        on leads.converted_opportunity_id = converted_opportunity.opportunity_id
    left join lead_first_opportunities as lead_first
        on leads.converted_opportunity_id is null
        and leads.lead_id = lead_first.lead_id
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

{#- One row per account that has won at least one (KPI-eligible) opportunity: the first won deal, its
    close date and month (business time zone) and the lead source it came from. An account becomes a
    new customer in the month of its first win (CAC, lead-to-customer). -#}
with won as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_won and account_id is not null
),

ranked as (
    select
        won.*,
        row_number() over (partition by account_id order by closed_at, opportunity_id) as win_rank
    from won
)

select
    account_id,
    opportunity_id as first_won_opportunity_id,
    close_date as first_won_date,
    close_month as first_won_month,
    lead_source as originating_lead_source,
    amount_reporting as first_won_amount
from ranked
where win_rank = 1

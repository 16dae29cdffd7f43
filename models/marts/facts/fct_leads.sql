{#- One row per lead (not deleted): its cohort (creation, business time zone), channel, owner and what
    became of it as of the build, exactly as the lead KPIs count it (int_lead_conversions), so a
    conversion rate drills down to its leads. -#}
with conversions as (
    select * from {{ ref('int_lead_conversions') }}
),

leads as (
    select * from {{ ref('int_leads_unioned') }}
)

select
    conversions.lead_id,
    conversions.lead_source,
    leads.source_value,
    coalesce(conversions.owner_id, 'unassigned') as owner_id,
    leads.status,
    conversions.created_date,
    conversions.cohort_month,
    conversions.is_converted,
    conversions.converted_date,
    conversions.days_to_convert,
    conversions.is_converted_within_30_days,
    conversions.is_converted_within_90_days,
    conversions.is_customer,
    leads.converted_account_id,
    leads.converted_opportunity_id,
    leads.source_system
from conversions
inner join leads on conversions.lead_id = leads.lead_id

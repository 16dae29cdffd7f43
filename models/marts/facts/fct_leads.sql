{#- One row per lead (not deleted): its cohort (creation, business time zone), channel, owner and what
    became of it as of the build, exactly as the lead KPIs count it (int_lead_conversions), so a
    conversion rate drills down to its leads.

    Incremental by lead_id (macros/incremental.sql): a run rebuilds the leads int_lead_conversions rebuilt since
    this model's last build (its built_at: every lead landed since is among them) and a pre-hook deletes the leads
    it no longer holds; on Spark on parquet the model is rebuilt whole. -#}
{{ config(**crm_kpis.rebuilt_upstream_config('lead_id', 'int_lead_conversions')) }}
{{- crm_kpis.require_incremental_column('built_at') }}

with conversions as (
    {{ crm_kpis.rebuilt_since_last_build(ref('int_lead_conversions')) }}
),

leads as {{ crm_kpis.not_materialized() }} (
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
    leads.source_system,
    {{ crm_kpis.built_at() }} as built_at
from conversions
inner join leads on conversions.lead_id = leads.lead_id

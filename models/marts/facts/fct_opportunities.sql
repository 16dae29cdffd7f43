{#- One row per opportunity (not deleted) with everything the KPIs decide about it, so every KPI number
    can be drilled down to the deals behind it and re-summed: the same business-time-zone dates, the
    same reporting-currency amounts (close month's rate, the created month's while open; the created
    month's rate for pipeline created), the same 'unknown' fallbacks as the marts group by, each
    data-quality flag and whether the deal counts in the KPIs at all.

    Incremental by opportunity_id (macros/incremental.sql): a run rebuilds the deals int_opportunities_enriched
    rebuilt since this model's last build (its built_at; that model also rebuilds a deal whose created month's
    FX rate landed, which the created amount here reads) and a pre-hook deletes the deals it no longer holds;
    on Spark on parquet the model is rebuilt whole. -#}
{{ config(**crm_kpis.rebuilt_upstream_config('opportunity_id', 'int_opportunities_enriched')) }}
{{- crm_kpis.require_incremental_column('built_at') }}

with opportunities as (
    {{ crm_kpis.rebuilt_since_last_build(ref('int_opportunities_enriched')) }}
),

fx_rates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_fx_rates_monthly') }}
)

select
    opportunities.opportunity_id,
    opportunities.opportunity_name,
    opportunities.opportunity_type,
    opportunities.owner_id,
    opportunities.account_id,
    coalesce(opportunities.segment, 'unknown') as segment,
    coalesce(opportunities.industry, 'unknown') as industry,
    opportunities.country_code,
    opportunities.lead_id,
    opportunities.lead_source,
    coalesce(opportunities.product_line, 'unknown') as product_line,
    opportunities.stage,
    opportunities.stage_order,
    case
        when opportunities.is_won then 'won'
        when opportunities.is_closed then 'lost'
        else 'open'
    end as status,
    opportunities.is_closed,
    opportunities.is_won,
    opportunities.amount,
    opportunities.currency,
    opportunities.rate_to_reporting,
    opportunities.amount_reporting,
    {{ crm_kpis.to_money('opportunities.amount * created_rates.rate_to_reporting') }} as created_amount_reporting,
    '{{ var("reporting_currency") }}' as reporting_currency,
    opportunities.probability,
    coalesce(opportunities.probability, opportunities.default_probability) as effective_probability,
    opportunities.expected_close_date,
    opportunities.created_at,
    opportunities.created_date,
    opportunities.created_month,
    opportunities.closed_at,
    opportunities.close_date,
    opportunities.close_month,
    case
        when opportunities.is_closed and not opportunities.is_close_before_creation
            then {{ dbt.datediff('opportunities.created_date', 'opportunities.close_date', 'day') }}
    end as cycle_days,
    case when opportunities.is_closed and not opportunities.is_won then opportunities.lost_reason end as lost_reason,
    opportunities.forecast_category,
    opportunities.is_unknown_stage,
    opportunities.is_negative_amount,
    opportunities.is_orphan_account,
    opportunities.is_orphan_owner,
    opportunities.is_closed_without_date,
    opportunities.is_missing_created_at,
    opportunities.is_close_before_creation,
    opportunities.rate_to_reporting is null as is_missing_fx_rate,
    opportunities.is_kpi_eligible as counts_in_kpis,
    opportunities.is_kpi_eligible and opportunities.is_closed and not opportunities.is_close_before_creation
        as counts_in_sales_cycle,
    opportunities.source_system,
    {{ crm_kpis.built_at() }} as built_at
from opportunities
left join fx_rates as created_rates
    on opportunities.currency = created_rates.currency
    and opportunities.created_month = created_rates.rate_month

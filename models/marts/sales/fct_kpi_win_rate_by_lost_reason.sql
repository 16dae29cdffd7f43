{#- KPI 1 seen by why deals were lost: the deals closed in the month, as in fct_kpi_win_rate, split by
    their lost reason (won deals under 'won', a lost deal without a reason under 'unspecified'). Every
    column adds up, so the share of closed deals lost to a reason is its lost_count over the closed_count
    of all reasons of the same cut, and win rate over all reasons equals fct_kpi_win_rate's.

    Incremental by period_month: a nightly build rebuilds the months its deals' changes touch (affected_months,
    macros/incremental.sql). -#}
{{ config(**crm_kpis.deal_month_fact_config('close_month')) }}
-- depends_on: {{ ref('int_opportunity_month_versions') }}

with closed as (
    select
        opportunities.*,
        case
            when is_won then 'won'
            else coalesce(nullif(trim(lost_reason), ''), 'unspecified')
        end as outcome_reason
    from ({{ crm_kpis.deals_in_affected_months(ref('fct_opportunities'), 'close_month') }}) as opportunities
    where counts_in_kpis and is_closed
)

select
    close_month as period_month,
    owner_id,
    segment,
    industry,
    product_line,
    lead_source,
    outcome_reason as lost_reason,
    {{ crm_kpis.count_of('count(*)') }} as closed_count,
    {{ crm_kpis.count_of('sum(case when is_won then 1 else 0 end)') }} as won_count,
    {{ crm_kpis.count_of('sum(case when is_won then 0 else 1 end)') }} as lost_count,
    {{ crm_kpis.to_money('sum(amount_reporting)') }} as closed_amount,
    {{ crm_kpis.to_money('sum(case when is_won then amount_reporting else 0 end)') }} as won_amount,
    {{ crm_kpis.to_money('sum(case when is_won then 0 else amount_reporting end)') }} as lost_amount,
    '{{ var("reporting_currency") }}' as reporting_currency,
    {{ crm_kpis.built_at() }} as built_at
from closed
group by close_month, owner_id, segment, industry, product_line, lead_source, outcome_reason

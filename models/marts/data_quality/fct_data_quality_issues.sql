{#- What the KPIs exclude or cannot attribute, and why: one row per check with its row count.
    Zero-count checks are kept so a BI tool shows that the check ran. -#}
with opportunities as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunities_enriched') }}
),

deleted_records as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_deleted_records_unioned') }}
),

intervals as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_opportunity_history_intervals') }}
),

account_mrr as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_mrr_account_months') }}
),

checks as (
    select 'opportunities' as table_name, 'deleted' as issue_type, 'excluded from every KPI' as effect,
        sum(case when table_name = 'opportunities' then 1 else 0 end) as row_count
    from deleted_records
    union all
    select 'accounts', 'deleted', 'excluded from dimensions', sum(case when table_name = 'accounts' then 1 else 0 end)
    from deleted_records
    union all
    select 'activities', 'deleted', 'excluded from activity KPIs', sum(case when table_name = 'activities' then 1 else 0 end)
    from deleted_records
    union all
    select 'leads', 'deleted', 'excluded from lead KPIs', sum(case when table_name = 'leads' then 1 else 0 end)
    from deleted_records
    union all
    select 'opportunities', 'negative_amount', 'excluded from every KPI', sum(case when is_negative_amount then 1 else 0 end)
    from opportunities
    union all
    select 'opportunities', 'unknown_stage', 'excluded from every KPI', sum(case when is_unknown_stage then 1 else 0 end)
    from opportunities
    union all
    select 'opportunities', 'closed_without_close_date', 'excluded from every KPI', sum(case when is_closed_without_date then 1 else 0 end)
    from opportunities
    union all
    select 'opportunities', 'missing_created_at', 'excluded from every KPI', sum(case when is_missing_created_at then 1 else 0 end)
    from opportunities
    union all
    select 'opportunities', 'missing_fx_rate', 'excluded from every KPI', sum(case when rate_to_reporting is null and not is_missing_created_at then 1 else 0 end)
    from opportunities
    union all
    select 'opportunities', 'close_before_creation', 'excluded from sales cycle', sum(case when is_close_before_creation then 1 else 0 end)
    from opportunities
    union all
    select 'opportunities', 'orphan_account', 'segment and industry reported as unknown', sum(case when is_orphan_account then 1 else 0 end)
    from opportunities
    union all
    select 'opportunities', 'orphan_owner', 'owner not in dim_users', sum(case when is_orphan_owner then 1 else 0 end)
    from opportunities
    union all
    select 'opportunity_history', 'opportunity_without_history', 'point-in-time KPIs use its versions snapshotted by refreshes, the first from its creation',
        count(distinct case when is_derived_from_current_values then opportunity_id end)
    from intervals
    union all
    select 'subscriptions', 'missing_fx_rate', 'account-month MRR unknown (NULL) in recurring revenue and retention',
        sum(case when mrr is null or previous_mrr is null then 1 else 0 end)
    from account_mrr
)

select table_name, issue_type, effect, coalesce(row_count, 0) as row_count
from checks

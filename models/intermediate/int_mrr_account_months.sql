{#- MRR per account and month from the subscriptions active on the month's last day (start_date <=
    last day <= end_date, end_date NULL = running; both are local dates and end_date is the last day
    served), in the reporting currency at that month's rate. Each account has a row for every month
    it has MRR and for the month after (MRR 0: the churn).

    Movements explain the change from the previous month exactly: new (first MRR ever), reactivation
    (MRR again after a gap), expansion / contraction (change at this month's rate), churn (to 0, at
    this month's rate) and fx (last month's MRR revalued at this month's rate). So
    new + reactivation + expansion + contraction + churn + fx = mrr - previous_mrr, always.

    Incremental by account_id (macros/incremental.sql): an account's rows depend only on its own
    subscriptions, their currencies' rates and the as-of month. A run rebuilds the accounts with a
    subscription landed since the last run (watermark: the newest source_loaded_at it holds), those
    with fewer subscriptions than before (deleted, hard-deleted or moved to another account:
    subscription_count) and those with a subscription in a currency whose rate landed since; every
    account when the as-of month moved (each running subscription has a new month, each last month
    a churn month). Accounts left without subscriptions lose their rows by a pre-hook delete; on Spark
    on parquet the model is rebuilt whole. -#}
{%- set replaced = crm_kpis.incremental_replace_config(key='account_id', partition=none, keys_can_vanish=true) %}
{%- do replaced.update({'pre_hook': "{{ crm_kpis.delete_vanished_keys('account_id', ref('int_subscriptions_unioned')) }}"}) %}
{{ config(**replaced) }}
{%- set as_of_month = "cast(" ~ dbt.date_trunc('month', crm_kpis.as_of_date()) ~ " as date)" %}

with all_subscriptions as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_subscriptions_unioned') }}
),

dates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('dim_date') }}
),

fx_rates as {{ crm_kpis.not_materialized() }} (
    select * from {{ ref('int_fx_rates_monthly') }}
),

{% if is_incremental() %}
{{- crm_kpis.require_incremental_column('subscription_count') }}
{{- crm_kpis.require_incremental_column('built_at') }}
watermark as (
    select {{ crm_kpis.incremental_watermark('source_loaded_at') }} as loaded_at
),

previous_accounts as (
    select account_id, max(subscription_count) as subscription_count, max(as_of_month) as as_of_month
    from {{ this }}
    group by account_id
),

current_accounts as (
    select account_id, count(*) as subscription_count
    from all_subscriptions
    group by account_id
),

changed_accounts as (
    select account_id from all_subscriptions
    where {{ crm_kpis.landed_since('loaded_at', 'watermark') }}
        or coalesce((select max(as_of_month) from previous_accounts), cast('1900-01-01' as date)) <> {{ as_of_month }}
        or currency in (select currency from fx_rates where loaded_at > (select loaded_at from watermark))
    union
    -- a subscription gone (or moved away): the account has fewer than it was built from
    select previous_accounts.account_id
    from previous_accounts
    left join current_accounts on previous_accounts.account_id = current_accounts.account_id
    where coalesce(current_accounts.subscription_count, 0) < previous_accounts.subscription_count
),
{% endif %}

subscriptions as (
    {{ crm_kpis.rows_to_rebuild('all_subscriptions', 'account_id', 'changed_accounts') }}
),

currency_rates as (
    select currency, max(loaded_at) as loaded_at
    from fx_rates
    group by currency
),

-- what each account's rows were built from: the watermark and the change capture of the next run
account_sources as (
    select
        subscriptions.account_id,
        count(*) as subscription_count,
        greatest(max(subscriptions.loaded_at), max(currency_rates.loaded_at)) as source_loaded_at
    from subscriptions
    left join currency_rates on subscriptions.currency = currency_rates.currency
    group by subscriptions.account_id
),

months as (
    select month_start, month_end
    from dates
    where date_day = month_start
        and month_start >= (select cast({{ dbt.date_trunc('month', 'min(start_date)') }} as date) from subscriptions)
        and month_start <= {{ as_of_month }}
),

local_mrr as (
    select
        subscriptions.account_id,
        subscriptions.currency,
        months.month_start,
        sum(subscriptions.mrr_amount) as mrr_local
    from subscriptions
    inner join months
        on subscriptions.start_date <= months.month_end
        and coalesce(subscriptions.end_date, cast('9999-12-31' as date)) >= months.month_end
    group by subscriptions.account_id, subscriptions.currency, months.month_start
),

sequenced as (
    select
        local_mrr.*,
        lag(month_start) over (partition by account_id, currency order by month_start) as previous_month,
        lag(mrr_local) over (partition by account_id, currency order by month_start) as previous_mrr_local,
        lead(month_start) over (partition by account_id, currency order by month_start) as next_month
    from local_mrr
),

-- every month with MRR (against the month before, 0 after a gap), and the month after each last month of
-- a run (MRR 0: the churn); built from neighbours rather than a distinct grid, which cannot spill at scale
currency_months as (
    select
        account_id,
        currency,
        month_start,
        mrr_local,
        case
            when previous_month = cast({{ dbt.dateadd('month', -1, 'month_start') }} as date) then previous_mrr_local
        end as last_mrr_local
    from sequenced
    union all
    select
        account_id,
        currency,
        cast({{ dbt.dateadd('month', 1, 'month_start') }} as date) as month_start,
        cast(null as {{ dbt.type_numeric() }}) as mrr_local,
        mrr_local as last_mrr_local
    from sequenced
    where (next_month is null or next_month > cast({{ dbt.dateadd('month', 1, 'month_start') }} as date))
        and cast({{ dbt.dateadd('month', 1, 'month_start') }} as date) <= (select max(months.month_start) from months)
),

paired as (
    select
        currency_months.account_id,
        currency_months.month_start,
        -- no subscription needs no rate: 0, not 0 x a missing rate (NULL)
        case when currency_months.mrr_local is null then 0
            else {{ crm_kpis.to_money('currency_months.mrr_local * this_rate.rate_to_reporting') }} end as mrr,
        case when currency_months.last_mrr_local is null then 0
            else {{ crm_kpis.to_money('currency_months.last_mrr_local * last_rate.rate_to_reporting') }} end as previous_mrr,
        case when currency_months.last_mrr_local is null then 0
            else {{ crm_kpis.to_money('currency_months.last_mrr_local * this_rate.rate_to_reporting') }} end as previous_mrr_at_current_rate
    from currency_months
    left join fx_rates as this_rate
        on currency_months.currency = this_rate.currency and currency_months.month_start = this_rate.rate_month
    left join fx_rates as last_rate
        on currency_months.currency = last_rate.currency
        and cast({{ dbt.dateadd('month', -1, 'currency_months.month_start') }} as date) = last_rate.rate_month
),

account_months as (
    select
        account_id,
        month_start,
        sum(mrr) as mrr,
        sum(previous_mrr) as previous_mrr,
        sum(previous_mrr_at_current_rate) as previous_mrr_at_current_rate
    from paired
    group by account_id, month_start
),

with_past as (
    select
        account_months.*,
        coalesce(max(case when mrr > 0 then 1 else 0 end) over (
            partition by account_id order by month_start rows between unbounded preceding and 1 preceding
        ), 0) = 1 as had_mrr_before
    from account_months
),

with_sources as (
    select
        with_past.*,
        account_sources.subscription_count,
        account_sources.source_loaded_at
    from with_past
    left join account_sources on with_past.account_id = account_sources.account_id
)

select
    account_id,
    month_start,
    {{ crm_kpis.to_money('mrr') }} as mrr,
    {{ crm_kpis.to_money('12 * mrr') }} as arr,
    {{ crm_kpis.to_money('previous_mrr') }} as previous_mrr,
    {{ crm_kpis.to_money('case when previous_mrr = 0 and mrr > 0 and not had_mrr_before then mrr else 0 end') }} as new_mrr,
    {{ crm_kpis.to_money('case when previous_mrr = 0 and mrr > 0 and had_mrr_before then mrr else 0 end') }} as reactivation_mrr,
    {{ crm_kpis.to_money('case when previous_mrr > 0 and mrr > previous_mrr_at_current_rate then mrr - previous_mrr_at_current_rate else 0 end') }} as expansion_mrr,
    {{ crm_kpis.to_money('case when previous_mrr > 0 and mrr > 0 and mrr < previous_mrr_at_current_rate then mrr - previous_mrr_at_current_rate else 0 end') }} as contraction_mrr,
    {{ crm_kpis.to_money('case when previous_mrr > 0 and mrr = 0 then -previous_mrr_at_current_rate else 0 end') }} as churned_mrr,
    {{ crm_kpis.to_money('previous_mrr_at_current_rate - previous_mrr') }} as fx_mrr,
    case
        when previous_mrr = 0 and mrr > 0 and not had_mrr_before then 'new'
        when previous_mrr = 0 and mrr > 0 then 'reactivation'
        when previous_mrr > 0 and mrr = 0 then 'churn'
        when mrr > previous_mrr_at_current_rate then 'expansion'
        when mrr < previous_mrr_at_current_rate then 'contraction'
        else 'unchanged'
    end as movement_type,
    subscription_count,
    {{ as_of_month }} as as_of_month,
    source_loaded_at,
    {{ crm_kpis.built_at() }} as built_at
from with_sources

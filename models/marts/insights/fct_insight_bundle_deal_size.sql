{#- Insight 4. Do bundles sell bigger? Deals closed in the month (business time zone) by how many
    distinct products their line items hold: single_product (1), multi_product (2 or more) or
    no_line_items (a CRM that does not record them). Won amount and count beside the average deal
    size (whole-deal amount, reporting currency at the close month's rate, as in
    fct_kpi_average_deal_size), products per won deal, and the win rate with its Wilson interval.
    Grain: period_month x owner_id x segment x bundle_type. Sum the parts, then divide. -#}
with closed as (
    select *
    from {{ ref('int_opportunities_enriched') }}
    where is_kpi_eligible and is_closed
),

products_per_deal as (
    select opportunity_id, count(distinct product_id) as product_count
    from {{ ref('int_opportunity_line_items_unioned') }}
    where product_id is not null
    group by opportunity_id
),

classified as (
    select
        closed.close_month,
        closed.owner_id,
        coalesce(closed.segment, 'unknown') as segment,
        closed.is_won,
        closed.amount_reporting,
        coalesce(products_per_deal.product_count, 0) as product_count,
        case
            when products_per_deal.product_count is null then 'no_line_items'
            when products_per_deal.product_count = 1 then 'single_product'
            else 'multi_product'
        end as bundle_type
    from closed
    left join products_per_deal on closed.opportunity_id = products_per_deal.opportunity_id
),

counted as (
    select
        close_month as period_month,
        owner_id,
        segment,
        bundle_type,
        count(*) as closed_count,
        sum(case when is_won then 1 else 0 end) as won_count,
        {{ crm_kpis.to_money('sum(case when is_won then amount_reporting else 0 end)') }} as won_amount,
        {{ crm_kpis.to_money('sum(case when is_won then 0 else amount_reporting end)') }} as lost_amount,
        sum(case when is_won then product_count else 0 end) as won_product_count
    from classified
    group by close_month, owner_id, segment, bundle_type
)

select
    period_month,
    owner_id,
    segment,
    bundle_type,
    {{ crm_kpis.count_of('closed_count') }} as closed_count,
    {{ crm_kpis.count_of('won_count') }} as won_count,
    {{ crm_kpis.count_of('closed_count - won_count') }} as lost_count,
    won_amount,
    lost_amount,
    {{ crm_kpis.safe_divide('won_amount', 'won_count') }} as average_deal_size,
    {{ crm_kpis.count_of('won_product_count') }} as won_product_count,
    {{ crm_kpis.ratio('won_product_count', 'won_count') }} as products_per_won_deal,
    {{ crm_kpis.rate_with_interval('won_count', 'closed_count', 'win_rate') }},
    '{{ var("reporting_currency") }}' as reporting_currency
from counted

{#- One row per stage a deal entered (deal_stage), with the amount and close date the deal had at
    that moment (the last deal_property_history change of amount / closedate at or before it; the
    current value when HubSpot kept no change). Only deals that are in stg_hubspot__opportunities.
    Property values are text: a date is epoch milliseconds (as the HubSpot API gives it) or ISO. -#}

with deal_stage as (
    select * from {{ source('hubspot', 'deal_stage') }}
),

deals as (
    select * from {{ ref('stg_hubspot__opportunities') }}
),

stages as (
    select * from {{ ref('stg_hubspot__deal_pipeline_stages') }}
),

property_changes as (
    select
        cast(deal_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(name as {{ dbt.type_string() }}) as property_name,
        cast(value as {{ dbt.type_string() }}) as property_value,
        cast(timestamp as {{ dbt.type_timestamp() }}) as changed_at
    from {{ source('hubspot', 'deal_property_history') }}
    where name in ('amount', 'closedate')
),

entered as (
    select
        cast(deal_stage.deal_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(deal_stage.date_entered as {{ dbt.type_timestamp() }}) as changed_at,
        deal_stage.value as stage_id,
        cast(deal_stage._fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from deal_stage
),

values_at_entry as (
    select
        entered.opportunity_id,
        entered.changed_at,
        property_changes.property_name,
        property_changes.property_value,
        row_number() over (
            partition by entered.opportunity_id, entered.changed_at, property_changes.property_name
            order by property_changes.changed_at desc
        ) as recency
    from entered
    inner join property_changes
        on entered.opportunity_id = property_changes.opportunity_id
        and property_changes.changed_at <= entered.changed_at
),

amount_at_entry as (
    select opportunity_id, changed_at, property_value
    from values_at_entry
    where property_name = 'amount' and recency = 1
),

close_date_at_entry as (
    select opportunity_id, changed_at, property_value
    from values_at_entry
    where property_name = 'closedate' and recency = 1
)

select
    entered.opportunity_id,
    entered.changed_at,
    stages.deal_stage as stage,
    coalesce({{ dbt.safe_cast('amount_at_entry.property_value', dbt.type_numeric()) }}, deals.amount) as amount,
    deals.currency,
    coalesce({{ crm_kpis.hubspot_date('close_date_at_entry.property_value') }}, deals.expected_close_date) as expected_close_date,
    {{ crm_kpis.hubspot_probability_percent("stages.probability") }} as probability,
    cast(null as {{ dbt.type_string() }}) as forecast_category,
    entered.loaded_at
from entered
inner join deals on entered.opportunity_id = deals.opportunity_id
left join stages on cast(entered.stage_id as {{ dbt.type_string() }}) = stages.stage_id
left join amount_at_entry
    on entered.opportunity_id = amount_at_entry.opportunity_id and entered.changed_at = amount_at_entry.changed_at
left join close_date_at_entry
    on entered.opportunity_id = close_date_at_entry.opportunity_id and entered.changed_at = close_date_at_entry.changed_at

{#- Opportunity in the shared shape. Outcome comes from Salesforce's own is_won / is_closed, not the
    stage name; close_date (a date) is the close time, at local midnight of the business time zone.
    Salesforce has no lead on the opportunity: it is the lead converted into it. The product line is
    the family of the opportunity's largest line item. -#}
{%- set opportunity = source('salesforce', 'opportunity') %}

with opportunity as (
    select * from {{ opportunity }}
    where {{ crm_kpis.el_row_filter(opportunity) }}
),

lead as (
    select * from {{ source('salesforce', 'lead') }}
    where {{ crm_kpis.el_row_filter(source('salesforce', 'lead')) }}
),

line_item as (
    select * from {{ source('salesforce', 'opportunity_line_item') }}
    where {{ crm_kpis.el_row_filter(source('salesforce', 'opportunity_line_item')) }}
),

product as (
    select * from {{ source('salesforce', 'product_2') }}
),

converted_leads as (
    select cast(converted_opportunity_id as {{ dbt.type_string() }}) as opportunity_id, min(cast(id as {{ dbt.type_string() }})) as lead_id
    from lead
    where converted_opportunity_id is not null
    group by 1
),

ranked_line_items as (
    select
        cast(line_item.opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
        product.family as product_line,
        row_number() over (
            partition by line_item.opportunity_id
            order by cast(line_item.total_price as {{ crm_kpis.type_double() }}) desc nulls last, line_item.id
        ) as size_rank
    from line_item
    left join product on line_item.product_2_id = product.id
),

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as opportunity_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,
        cast(name as {{ dbt.type_string() }}) as opportunity_name,
        cast(type as {{ dbt.type_string() }}) as type_value,
        cast(stage_name as {{ dbt.type_string() }}) as stage_name,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        coalesce({{ crm_kpis.optional_column(opportunity, 'currency_iso_code', dbt.type_string()) }}, {{ crm_kpis.default_currency('salesforce') }}) as currency,
        cast(probability as {{ crm_kpis.type_double() }}) as probability,
        cast(close_date as date) as close_date,
        cast(created_date as {{ dbt.type_timestamp() }}) as created_at,
        coalesce({{ crm_kpis.to_boolean('is_closed') }}, false) as is_closed,
        coalesce({{ crm_kpis.to_boolean('is_won') }}, false) as is_won,
        {{ crm_kpis.optional_column(opportunity, 'loss_reason_c', dbt.type_string()) }} as lost_reason,
        cast(forecast_category as {{ dbt.type_string() }}) as forecast_category_value,
        coalesce(
            {{ crm_kpis.optional_column(opportunity, 'last_modified_date', dbt.type_timestamp()) }},
            {{ crm_kpis.optional_column(opportunity, 'system_modstamp', dbt.type_timestamp()) }},
            cast(_fivetran_synced as {{ dbt.type_timestamp() }})
        ) as updated_at,
        cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
    from opportunity
)

select
    typed.opportunity_id,
    typed.account_id,
    typed.owner_id,
    converted_leads.lead_id,
    typed.opportunity_name,
    {{ crm_kpis.canonical_opportunity_type('typed.type_value') }} as opportunity_type,
    ranked_line_items.product_line,
    case
        when typed.is_won then 'Closed Won'
        when typed.is_closed then 'Closed Lost'
        else typed.stage_name
    end as stage,
    typed.amount,
    upper(typed.currency) as currency,
    -- 0-100 in Salesforce; anything else is an entry error, read as "stage default"
    case when typed.probability between 0 and 100 then typed.probability end as probability,
    typed.close_date as expected_close_date,
    typed.created_at,
    case when typed.is_closed then {{ crm_kpis.local_to_utc('typed.close_date') }} end as closed_at,
    typed.is_closed,
    typed.is_won,
    typed.lost_reason,
    {{ crm_kpis.canonical_forecast_category('typed.forecast_category_value') }} as forecast_category,
    typed.updated_at,
    typed.loaded_at
from typed
left join converted_leads on typed.opportunity_id = converted_leads.opportunity_id
left join ranked_line_items
    on typed.opportunity_id = ranked_line_items.opportunity_id
    and ranked_line_items.size_rank = 1

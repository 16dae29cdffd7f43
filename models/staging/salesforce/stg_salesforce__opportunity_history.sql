{#- One row per change, holding the values after it. Reads either shape Fivetran lands:
    the OpportunityHistory object (a row per stage/amount/close-date change, at created_date), or a
    History Mode copy of Opportunity (a row per version, valid from _fivetran_start; superseded
    versions are history, so they are kept). Deleted rows are dropped. -#}
{%- set history = source('salesforce', 'opportunity_history') %}
{%- set is_history_mode = crm_kpis.has_column(history, '_fivetran_start') %}

with history as (
    select * from {{ history }}
    where {{ crm_kpis.el_row_filter(history, current_only=false) }}
)

select
    {% if is_history_mode -%}
    cast(id as {{ dbt.type_string() }}) as opportunity_id,
    cast(_fivetran_start as {{ dbt.type_timestamp() }}) as changed_at,
    case
        when coalesce({{ crm_kpis.to_boolean('is_won') }}, false) then 'Closed Won'
        when coalesce({{ crm_kpis.to_boolean('is_closed') }}, false) then 'Closed Lost'
        else cast(stage_name as {{ dbt.type_string() }})
    end as stage,
    {%- else -%}
    cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
    cast(created_date as {{ dbt.type_timestamp() }}) as changed_at,
    cast(stage_name as {{ dbt.type_string() }}) as stage,
    {%- endif %}
    cast(amount as {{ dbt.type_numeric() }}) as amount,
    upper(coalesce({{ crm_kpis.optional_column(history, 'currency_iso_code', dbt.type_string()) }}, {{ crm_kpis.default_currency('salesforce') }})) as currency,
    cast(close_date as date) as expected_close_date,
    case when cast(probability as {{ crm_kpis.type_double() }}) between 0 and 100 then cast(probability as {{ crm_kpis.type_double() }}) end as probability,
    {{ crm_kpis.canonical_forecast_category(crm_kpis.optional_column(history, 'forecast_category', dbt.type_string())) }} as forecast_category,
    cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
from history

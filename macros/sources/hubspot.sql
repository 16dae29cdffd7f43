{#- A HubSpot date property value as a date: epoch milliseconds ('1751364000000', the API's form)
    or an ISO date / timestamp; anything else NULL. -#}
{% macro hubspot_date(expression) -%}
    case
        when {{ dbt.safe_cast(expression, dbt.type_bigint()) }} is not null and {{ dbt.length(expression) }} >= 12
            then cast({{ dbt.dateadd('second', dbt.safe_cast(expression, dbt.type_bigint()) ~ ' / 1000', "cast('1970-01-01' as " ~ dbt.type_timestamp() ~ ")") }} as date)
        else cast({{ dbt.safe_cast(expression, dbt.type_timestamp()) }} as date)
    end
{%- endmacro %}

{#- A HubSpot probability (0-1) as a percentage (0-100), through a decimal: as doubles 0.9 x 100 is
    90.00000000000001. -#}
{% macro hubspot_probability_percent(probability) -%}
    {{ crm_kpis.to_ratio('cast(' ~ probability ~ ' as ' ~ api.Column.numeric_type('numeric', 18, 10) ~ ') * 100') }}
{%- endmacro %}

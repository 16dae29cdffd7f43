{#- The date "as of the build": var as_of_date when set (tests and back-fills pin it), else today in
    the business time zone. Snapshots, the current quota period's pace and trailing windows use it. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
    cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
    {{ crm_kpis.to_business_date(dbt.current_timestamp()) }}
    {%- endif -%}
{%- endmacro %}

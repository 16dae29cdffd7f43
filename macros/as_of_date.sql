{#- The date "as of the build": var as_of_date (CRM_KPIS_AS_OF_DATE; tests, back-fills and the demo's
    fixed data pin it), else today in the business time zone. Point-in-time snapshots,
    the current quota period's pace and trailing windows use it. -#}
{% macro as_of_date() -%}
    {%- set pinned = var('as_of_date') -%}
    {%- if pinned -%}
    cast('{{ pinned }}' as date)
    {%- else -%}
    {{ crm_kpis.to_business_date(dbt.current_timestamp()) }}
    {%- endif -%}
{%- endmacro %}

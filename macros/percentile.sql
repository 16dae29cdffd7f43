{#- The continuous (interpolating) percentile of an aggregate group, one spelling per engine: the
    ordered-set aggregate of the SQL standard is Postgres's only form, DuckDB and Spark name it as a
    function. `fraction` is a literal between 0 and 1. -#}
{% macro percentile_cont(fraction, expression) -%}
    {{ return(adapter.dispatch('percentile_cont', 'crm_kpis')(fraction, expression)) }}
{%- endmacro %}

{% macro default__percentile_cont(fraction, expression) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(fraction, expression) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(fraction, expression) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- A per-row money amount as an exact decimal (numeric(28,6) on DuckDB). Amounts are converted and
    rounded row by row before any sum: a sum of doubles depends on the order threads add them in, so
    two builds of the same data could differ in the last digit. Sums of decimals cannot. -#}
{% macro to_money(expression) -%}
    cast({{ expression }} as {{ dbt.type_numeric() }})
{%- endmacro %}

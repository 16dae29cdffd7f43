{#- The 8-byte float of ratios and every other non-money fraction. dbt.type_float() is FLOAT, which
    DuckDB and Spark read as a 4-byte REAL: a win rate would lose digits. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'crm_kpis')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- A ratio column: safe_divide as a double, NULL on a zero denominator. -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ crm_kpis.safe_divide(numerator, denominator) }} as {{ crm_kpis.type_double() }})
{%- endmacro %}

{#- A count column as bigint: sums of integers are HUGEINT on DuckDB and numeric on Postgres, which
    many BI clients read as floats. -#}
{% macro count_of(expression) -%}
    cast({{ expression }} as {{ dbt.type_bigint() }})
{%- endmacro %}

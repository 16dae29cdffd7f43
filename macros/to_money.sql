{#- The project's numeric types, decided once and held on every engine (DuckDB, Postgres, Spark):

    money   decimal(28,6)  every amount in a mart: converted and rounded row by row before any sum, and
                           every sum cast back, so a mart column is decimal(28,6) on each engine (Postgres
                           would otherwise give unconstrained numeric, DuckDB and Spark decimal(38,6)).
                           Sums of decimals do not depend on the order threads add them in; doubles do.
    ratio   double         every quotient, average, median and rate (DuckDB divides decimals into doubles,
                           Postgres into numerics of 16-20 decimals, Spark into decimal(38,6)).
    FX rate decimal(28,12) the cross rate into the reporting currency: exact, so money is too. -#}
{#- Counts are bigint: Postgres sums bigints into numerics, DuckDB integers into HUGEINTs (which many
    BI clients read as doubles). -#}
{% macro to_count(expression) -%}
    cast({{ expression }} as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro to_money(expression) -%}
    cast({{ expression }} as {{ crm_kpis.type_money() }})
{%- endmacro %}

{% macro type_money() -%}
    {{ return(dbt.type_numeric()) }}
{%- endmacro %}

{% macro to_ratio(expression) -%}
    cast({{ expression }} as {{ crm_kpis.type_double() }})
{%- endmacro %}

{% macro type_fx_rate() -%}
    {{ return(api.Column.numeric_type('numeric', 28, 12)) }}
{%- endmacro %}

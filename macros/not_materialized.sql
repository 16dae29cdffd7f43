{#- Written between a CTE's name and its body, `name as {{ crm_kpis.not_materialized() }} (select * from ...)`: the CTE
    is inlined where it is read, never materialized. DuckDB (and Postgres) materialize a CTE that is read more than
    once: for an import CTE that is a copy of the whole relation, every column, which under the warehouse's memory
    cap (4 GB by default) spills to disk at 10M opportunities: the enriched deals' nightly query took 21 s
    materialized against 10 s inlined, the lead conversions' 27 s against 13 s. Inlined, each read takes only the
    columns and rows it needs. Spark inlines CTEs anyway and knows no such keyword. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'crm_kpis')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}

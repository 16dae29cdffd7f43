{#- Schemas are exactly raw / staging / intermediate / marts / reference, not prefixed with the
    target schema: BI tools and Dagster asset keys depend on these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

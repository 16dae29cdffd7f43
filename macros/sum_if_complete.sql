{#- sum(expression), or NULL when any row's value is unknown (NULL): a total with a hole is no total. -#}
{% macro sum_if_complete(expression) -%}
    case when count({{ expression }}) = count(*) then sum({{ expression }}) end
{%- endmacro %}

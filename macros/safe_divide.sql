{#- numerator / denominator as a decimal ratio, NULL when the denominator is zero (kpis.md rule 1). -#}
{% macro safe_divide(numerator, denominator) -%}
    (1.0 * ({{ numerator }})) / nullif({{ denominator }}, 0)
{%- endmacro %}

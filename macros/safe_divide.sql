{#- numerator / denominator as a ratio (double), NULL when the denominator is zero (kpis.md rule 1).
    Both sides become doubles first: integers divide as integers on Postgres (7 / 2 = 3), and a double
    division is rounded the same way on every engine. -#}
{% macro safe_divide(numerator, denominator) -%}
    {{ crm_kpis.to_ratio(numerator) }} / nullif({{ crm_kpis.to_ratio(denominator) }}, 0)
{%- endmacro %}

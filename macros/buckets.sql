{#- Buckets of a numeric expression from a list of ascending lower bounds (a project var), so a sales
    manager can move the cut-offs without touching SQL. Each bucket holds [bound, next bound); the
    last is open-ended. bucket_label gives "5-10" and "40+" (for whole counts, `whole=true`: "3-5" for
    [3, 6), "0" for [0, 1)), bucket_order 1, 2, ... for sorting. -#}
{% macro _bucket_number(value) -%}
    {%- if value | float == value | int -%}{{ value | int }}{%- else -%}{{ value }}{%- endif -%}
{%- endmacro %}

{% macro bucket_label(expression, bounds, whole=false) -%}
    case
    {%- for bound in bounds | reverse %}
        {%- set index = bounds | length - loop.index %}
        when {{ expression }} >= {{ bound }} then
            {%- if index == bounds | length - 1 %} '{{ crm_kpis._bucket_number(bound) }}+'
            {%- elif whole and bounds[index + 1] | int - 1 == bound | int %} '{{ bound | int }}'
            {%- elif whole %} '{{ bound | int }}-{{ bounds[index + 1] | int - 1 }}'
            {%- else %} '{{ crm_kpis._bucket_number(bound) }}-{{ crm_kpis._bucket_number(bounds[index + 1]) }}'
            {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}

{% macro bucket_order(expression, bounds) -%}
    case
    {%- for bound in bounds | reverse %}
        when {{ expression }} >= {{ bound }} then {{ bounds | length - loop.index + 1 }}
    {%- endfor %}
    end
{%- endmacro %}

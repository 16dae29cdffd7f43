{#- Wilson score interval of a proportion successes / trials at var confidence_z (1.96 = 95 %).
    Unlike the normal approximation it stays inside [0, 1] and is honest for small samples (a 2 of 2
    win rate is not "certainly 100 %"). NULL when trials is 0. `side` is 'lower' or 'upper'. -#}
{% macro wilson_bound(successes, trials, side) -%}
    {%- set z = var('confidence_z', 1.96) | float -%}
    {%- set sign = '-' if side == 'lower' else '+' -%}
    {#- doubles throughout: a literal 1.0 is a decimal on Spark, whose decimal division rounds to 6 places -#}
    {%- set n = 'cast((' ~ trials ~ ') as ' ~ crm_kpis.type_double() ~ ')' -%}
    {%- set p = '(cast((' ~ successes ~ ') as ' ~ crm_kpis.type_double() ~ ') / nullif(' ~ n ~ ', 0))' -%}
    cast(case when ({{ trials }}) > 0 then least(1.0, greatest(0.0,
        ({{ p }} + {{ z * z }} / (2 * {{ n }})
            {{ sign }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z * z }} / (4 * {{ n }} * {{ n }})))
        / (1 + {{ z * z }} / {{ n }})
    )) end as {{ crm_kpis.type_double() }})
{%- endmacro %}

{#- Two-proportion z statistic of s1 / n1 against s2 / n2 with the pooled standard error: how many
    standard errors apart two rates are (|z| >= 1.96: unlikely to be chance at 95 %). NULL when either
    sample is empty or the pooled rate is 0 or 1 (no variance to compare against). -#}
{% macro two_proportion_z(s1, n1, s2, n2) -%}
    {#- safe_divide throughout: `1.0 * x` is a decimal on Spark, whose decimal products round to 6 places -#}
    {%- set p1 = crm_kpis.safe_divide(s1, n1) -%}
    {%- set p2 = crm_kpis.safe_divide(s2, n2) -%}
    {%- set pooled = '(' ~ crm_kpis.safe_divide('(' ~ s1 ~ ') + (' ~ s2 ~ ')', '(' ~ n1 ~ ') + (' ~ n2 ~ ')') ~ ')' -%}
    {%- set inverse_sizes = '(' ~ crm_kpis.safe_divide('1', n1) ~ ' + ' ~ crm_kpis.safe_divide('1', n2) ~ ')' -%}
    cast(
        ({{ p1 }} - {{ p2 }})
        / nullif(sqrt({{ pooled }} * (1 - {{ pooled }}) * {{ inverse_sizes }}), 0)
    as {{ crm_kpis.type_double() }})
{%- endmacro %}

{#- A rate with its interval as three columns: `name`, `name`_ci_low and `name`_ci_high. -#}
{% macro rate_with_interval(successes, trials, name) -%}
    {{ crm_kpis.ratio(successes, trials) }} as {{ name }},
    {{ crm_kpis.wilson_bound(successes, trials, 'lower') }} as {{ name }}_ci_low,
    {{ crm_kpis.wilson_bound(successes, trials, 'upper') }} as {{ name }}_ci_high
{%- endmacro %}

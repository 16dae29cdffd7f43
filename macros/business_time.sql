{#- A UTC timestamp as wall-clock time in the business time zone (var business_timezone). -#}
{% macro to_business_time(utc_timestamp) -%}
    {{ return(adapter.dispatch('to_business_time', 'crm_kpis')(utc_timestamp)) }}
{%- endmacro %}

{% macro default__to_business_time(utc_timestamp) -%}
    (({{ utc_timestamp }} at time zone 'UTC') at time zone '{{ var("business_timezone") }}')
{%- endmacro %}

{% macro spark__to_business_time(utc_timestamp) -%}
    from_utc_timestamp({{ utc_timestamp }}, '{{ var("business_timezone") }}')
{%- endmacro %}

{#- The business-time-zone calendar date of a UTC timestamp. -#}
{% macro to_business_date(utc_timestamp) -%}
    cast({{ crm_kpis.to_business_time(utc_timestamp) }} as date)
{%- endmacro %}

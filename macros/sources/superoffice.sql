{#- SuperOffice sale status (1 open, 2 sold, 3 lost, 4 stalled) onto the shared fields. The outcome
    is the status, never the stage: SuperOffice does not move a sold sale to a closing stage. A stalled
    sale is a parked open deal: open, with forecast category omitted, so it leaves the pipeline. -#}
{% macro superoffice_stage(status, stage_name) -%}
    case {{ status }} when 2 then 'Closed Won' when 3 then 'Closed Lost' else cast({{ stage_name }} as {{ dbt.type_string() }}) end
{%- endmacro %}

{% macro superoffice_forecast_category(status) -%}
    case {{ status }} when 2 then 'closed' when 3 then 'closed' when 4 then 'omitted' else 'pipeline' end
{%- endmacro %}

{#- A SuperOffice DateTime (wall-clock time of the base time zone, var superoffice_timezone) as UTC;
    sentinel dates before 1901 are no date. -#}
{% macro superoffice_local_to_utc(expression) -%}
    case when cast({{ expression }} as {{ dbt.type_timestamp() }}) >= cast('1901-01-01' as {{ dbt.type_timestamp() }})
        then {{ crm_kpis.local_to_utc(expression, var('superoffice_timezone') or var('business_timezone')) }} end
{%- endmacro %}

{#- Helpers for the CRM adapters' staging models: EL tools land schemas that differ per account and
    per tool version, and values that differ per spelling. -#}

{#- `column` of `relation` cast to `data_type`, or a typed NULL when the table has no such column
    (custom fields, columns a connector version does not sync). Looked up in the warehouse at run time. -#}
{% macro optional_column(relation, column, data_type) -%}
    {%- if crm_kpis.has_column(relation, column) -%}
        cast({{ adapter.quote(column) }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}

{#- Whether the table has the column (compared case-insensitively); false while dbt only parses. -#}
{% macro has_column(relation, column) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {{ return(column | lower in (adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list)) }}
{%- endmacro %}

{#- The currency of a CRM adapter's amounts when the row names none: var <source>_currency, else the
    reporting currency (a single-currency CRM account), as a SQL literal. -#}
{% macro default_currency(source_name) -%}
    '{{ var(source_name ~ "_currency") or var("reporting_currency") }}'
{%- endmacro %}

{#- A boolean from whatever an export holds: true/TRUE/t/1/yes, false/FALSE/f/0/no; anything else NULL. -#}
{% macro to_boolean(expression) -%}
    case lower(trim(cast({{ expression }} as {{ dbt.type_string() }})))
        when 'true' then true when 't' then true when '1' then true when 'yes' then true
        when 'false' then false when 'f' then false when '0' then false when 'no' then false
    end
{%- endmacro %}

{#- A foreign key as text, NULL for the "no reference" values 0 and '' (SuperOffice writes 0). -#}
{% macro key_or_null(expression) -%}
    nullif(nullif(trim(cast({{ expression }} as {{ dbt.type_string() }})), '0'), '')
{%- endmacro %}

{#- A wall-clock timestamp of time zone `zone` (default: the business time zone) as UTC. -#}
{% macro local_to_utc(local_timestamp, zone=none) -%}
    {{ return(adapter.dispatch('local_to_utc', 'crm_kpis')(local_timestamp, zone or var('business_timezone'))) }}
{%- endmacro %}

{% macro default__local_to_utc(local_timestamp, zone) -%}
    cast(((cast({{ local_timestamp }} as {{ dbt.type_timestamp() }}) at time zone '{{ zone }}') at time zone 'UTC') as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro spark__local_to_utc(local_timestamp, zone) -%}
    to_utc_timestamp({{ local_timestamp }}, '{{ zone }}')
{%- endmacro %}

{#- Segment from head count where a CRM has no segment field (Salesforce, HubSpot, exports):
    dbt var segment_employee_limits [SMB below, Mid-Market below], default [100, 1000]. -#}
{% macro segment_from_employees(employees) -%}
    {%- set limits = var('segment_employee_limits') -%}
    case
        when {{ employees }} is null then null
        when {{ employees }} < {{ limits[0] }} then 'SMB'
        when {{ employees }} < {{ limits[1] }} then 'Mid-Market'
        else 'Enterprise'
    end
{%- endmacro %}

{#- Opportunity type onto new_business / upsell / renewal from the CRMs' usual labels. -#}
{% macro canonical_opportunity_type(expression) -%}
    case
        when {{ expression }} is null then null
        when lower({{ expression }}) like '%renew%' then 'renewal'
        when lower({{ expression }}) like '%upsell%' or lower({{ expression }}) like '%upgrade%'
            or lower({{ expression }}) like '%existing%' or lower({{ expression }}) like '%expansion%' then 'upsell'
        else 'new_business'
    end
{%- endmacro %}

{#- Forecast category onto pipeline / best_case / commit / omitted / closed (Salesforce: BestCase). -#}
{% macro canonical_forecast_category(expression) -%}
    case lower(replace(replace({{ expression }}, ' ', ''), '_', ''))
        when 'pipeline' then 'pipeline' when 'bestcase' then 'best_case' when 'commit' then 'commit'
        when 'omitted' then 'omitted' when 'closed' then 'closed'
    end
{%- endmacro %}

{#- Rows that are alive in an EL tool's table: not soft-deleted (is_deleted, _fivetran_deleted) and,
    in a Fivetran History Mode table, the current version (_fivetran_active). Only the columns the
    table has are tested. `deleted=true` gives the soft-deleted current rows instead. -#}
{% macro el_row_filter(relation, deleted=false, current_only=true) -%}
    {%- set flags = [] -%}
    {%- for column in ['is_deleted', '_fivetran_deleted'] if crm_kpis.has_column(relation, column) -%}
        {%- do flags.append('coalesce(' ~ crm_kpis.to_boolean(column) ~ ', false)') -%}
    {%- endfor -%}
    {#- `1 = 0`, not `false`: on Spark (ANSI off) `from t where (false)` parses as the alias `where` with the
        column list (false) -#}
    {%- set is_deleted = '(' ~ (flags | join(' or ') if flags else '1 = 0') ~ ')' -%}
    {%- if deleted %}{{ is_deleted }}{% else %}not {{ is_deleted }}{% endif -%}
    {%- if current_only and crm_kpis.has_column(relation, '_fivetran_active') %}
        and coalesce({{ crm_kpis.to_boolean('_fivetran_active') }}, true)
    {%- endif -%}
{%- endmacro %}

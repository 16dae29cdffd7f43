{#- Which CRM sources feed the warehouse: dbt var `crm_sources` (a list, or a comma-separated string;
    CRM_KPIS_SOURCES; default `files`, the landing contract's files). The same expression enables
    the per-source folders in dbt_project.yml, so a source that is not selected has no models at all. -#}
{% macro enabled_crm_sources() -%}
    {%- set selected = var('crm_sources') -%}
    {%- if selected is string -%}
        {%- set selected = selected.split(',') -%}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for name in selected if name | trim -%}
        {%- set name = name | trim | lower -%}
        {%- if name not in crm_kpis.crm_source_entities() -%}
            {{ exceptions.raise_compiler_error(
                "crm_sources: unknown source '" ~ name ~ "'; choose from " ~ (crm_kpis.crm_source_entities().keys() | list | join(', '))) }}
        {%- endif -%}
        {%- if name not in names -%}{%- do names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {%- if not names -%}
        {{ exceptions.raise_compiler_error("crm_sources is empty: select at least one of " ~ (crm_kpis.crm_source_entities().keys() | list | join(', '))) }}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro crm_source_enabled(name) -%}
    {{ return(name in crm_kpis.enabled_crm_sources()) }}
{%- endmacro %}

{#- The shared entities each source provides; an entity a source lacks contributes no rows. -#}
{% macro crm_source_entities() -%}
    {{ return({
        'files': ['users', 'accounts', 'leads', 'opportunities', 'opportunity_history', 'products',
                'opportunity_line_items', 'activities', 'quotas', 'subscriptions', 'acquisition_spend',
                'forecast_submissions', 'fx_rates', 'deleted_records'],
        'salesforce': ['users', 'accounts', 'leads', 'opportunities', 'opportunity_history', 'products',
                       'opportunity_line_items', 'activities', 'deleted_records'],
        'hubspot': ['users', 'accounts', 'leads', 'opportunities', 'opportunity_history', 'activities',
                    'deleted_records'],
        'superoffice': ['users', 'accounts', 'leads', 'opportunities', 'opportunity_history', 'activities',
                        'quotas', 'deleted_records'],
    }) }}
{%- endmacro %}

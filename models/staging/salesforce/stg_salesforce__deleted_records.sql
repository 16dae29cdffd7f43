{#- Soft-deleted opportunities, accounts, leads, tasks and events: the current row is flagged
    is_deleted / _fivetran_deleted, or, in a History Mode table, no version is active any more. -#}
{%- set objects = [('opportunities', 'opportunity'), ('accounts', 'account'), ('leads', 'lead'),
                   ('activities', 'task'), ('activities', 'event')] %}

{% for table_name, object in objects -%}
{%- set relation = source('salesforce', object) %}
select
    '{{ table_name }}' as table_name,
    cast(id as {{ dbt.type_string() }}) as record_id,
    max(cast(_fivetran_synced as {{ dbt.type_timestamp() }})) as loaded_at
from {{ relation }}
group by id
having max(case when {{ crm_kpis.el_row_filter(relation, deleted=true) }} then 1 else 0 end) = 1
    {%- if crm_kpis.has_column(relation, '_fivetran_active') %}
    or max(case when coalesce({{ crm_kpis.to_boolean('_fivetran_active') }}, true) then 1 else 0 end) = 0
    {%- endif %}
{% if not loop.last %}union all{% endif %}
{% endfor %}

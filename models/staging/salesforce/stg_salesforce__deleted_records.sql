{#- Soft-deleted (is_deleted / _fivetran_deleted) opportunities, accounts, leads, tasks and events. -#}
{%- set objects = [('opportunities', 'opportunity'), ('accounts', 'account'), ('leads', 'lead'),
                   ('activities', 'task'), ('activities', 'event')] %}

{% for table_name, object in objects -%}
select
    '{{ table_name }}' as table_name,
    cast(id as {{ dbt.type_string() }}) as record_id,
    cast(_fivetran_synced as {{ dbt.type_timestamp() }}) as loaded_at
from {{ source('salesforce', object) }}
where {{ crm_kpis.el_row_filter(source('salesforce', object), deleted=true) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}

{#- Soft-deleted rows of the landed tables, by key: the data-quality fact counts them and the
    incremental activities model removes them. The only staging model that reads several raw tables:
    it holds one fact (this key was deleted) that every source reports in its own way. -#}
{%- set tables = [('opportunities', 'opportunity_id'), ('accounts', 'account_id'), ('activities', 'activity_id'),
                  ('leads', 'lead_id')] %}

{% for table_name, key in tables -%}
select '{{ table_name }}' as table_name, {{ key }} as record_id, _loaded_at as loaded_at
from {{ source('files', table_name) }}
where is_deleted
{% if not loop.last %}union all{% endif %}
{% endfor %}

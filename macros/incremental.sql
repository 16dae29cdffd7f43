{#- How an incremental model replaces what changed, one mechanism on every engine. A model names its key
    (the rows a change replaces) and a partition column (how a Spark table is cut); the engine decides:

    - engines that delete (DuckDB, Postgres, Snowflake and the default): delete+insert by the key. The
      batch holds the new versions of the changed keys (and a tombstone for a deleted key, which replaces
      its row and is filtered by readers: nothing is deleted outside dbt's own strategy);
    - Spark on parquet, which can neither delete nor merge (that needs Delta, Iceberg or Hudi):
      insert_overwrite of whole partitions (dynamic partition overwrite). The batch holds every row of
      each partition that holds a changed key, built from the source, so a deleted row simply is not
      in it;
    - Databricks and BigQuery: merge by the key (their tables take merge natively).

    A later model that is replaced by period (period_month) names it as both key and partition: delete+insert
    by a non-unique key replaces every row of the changed months, as insert_overwrite does. -#}
{% macro incremental_replace_config(key, partition) -%}
    {{ return(adapter.dispatch('incremental_replace_config', 'crm_kpis')(key, partition)) }}
{%- endmacro %}

{% macro default__incremental_replace_config(key, partition) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': key}) }}
{%- endmacro %}

{% macro spark__incremental_replace_config(key, partition) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite', 'partition_by': [partition],
               'file_format': 'parquet'}) }}
{%- endmacro %}

{% macro databricks__incremental_replace_config(key, partition) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'merge', 'unique_key': key}) }}
{%- endmacro %}

{% macro bigquery__incremental_replace_config(key, partition) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'merge', 'unique_key': key}) }}
{%- endmacro %}

{#- Whether this engine replaces whole partitions (the batch must then hold all of each changed partition). -#}
{% macro replaces_partitions() -%}
    {{ return(adapter.dispatch('replaces_partitions', 'crm_kpis')()) }}
{%- endmacro %}

{% macro default__replaces_partitions() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__replaces_partitions() -%}
    {{ return(true) }}
{%- endmacro %}

{#- A partition of rows by key that never moves (a key's bucket is fixed), for keys without a natural
    period: the first two hex digits of the key's md5, 256 partitions, the same on every engine. -#}
{% macro key_bucket(key) -%}
    substr({{ dbt.hash(key) }}, 1, 2)
{%- endmacro %}

{#- `column` is one of the values `values_sql` selects (a single-column query), a NULL matching a NULL:
    Spark keeps NULL partition values as a partition of their own. -#}
{% macro in_values(column, values_sql) -%}
    ({{ column }} in ({{ values_sql }})
        or ({{ column }} is null and exists (select 1 from ({{ values_sql }}) as null_values(value) where value is null)))
{%- endmacro %}

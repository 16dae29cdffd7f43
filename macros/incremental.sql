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
    by a non-unique key replaces every row of the changed months, as insert_overwrite does.

    `keys_can_vanish`: a changed key may have no rows at all in its new version (its old rows must go, and a
    batch without them cannot say so). The engines that delete remove them first (delete_changed_keys, a
    pre-hook); Spark on parquet rebuilds such a model whole (a table), since a partition with no row in the
    batch would keep its old rows. -#}
{% macro incremental_replace_config(key, partition, keys_can_vanish=false) -%}
    {{ return(adapter.dispatch('incremental_replace_config', 'crm_kpis')(key, partition, keys_can_vanish)) }}
{%- endmacro %}

{% macro default__incremental_replace_config(key, partition, keys_can_vanish) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': key}) }}
{%- endmacro %}

{% macro spark__incremental_replace_config(key, partition, keys_can_vanish) -%}
    {% if keys_can_vanish %}
    {{ return({'materialized': 'table', 'file_format': 'parquet'}) }}
    {% endif %}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite', 'partition_by': [partition],
               'file_format': 'parquet'}) }}
{%- endmacro %}

{% macro databricks__incremental_replace_config(key, partition, keys_can_vanish) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'merge', 'unique_key': key}) }}
{%- endmacro %}

{% macro bigquery__incremental_replace_config(key, partition, keys_can_vanish) -%}
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

{#- The landing time up to which an incremental model holds its sources' rows: the newest loaded_at of its
    own rows, or the beginning of time while it holds none (a CRM whose first refresh had no rows of it). -#}
{% macro incremental_watermark(column='loaded_at') -%}
    (select coalesce(max({{ column }}), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) from {{ this }})
{%- endmacro %}

{#- Whether a source row is newer than the model's watermark (a CTE `watermark` with one row, loaded_at).
    A row without a landing time (an EL table without a sync column) is always new: rebuilding it again is
    slow, missing its change would be wrong. -#}
{% macro landed_since(column, watermark) -%}
    ({{ column }} > (select loaded_at from {{ watermark }}) or {{ column }} is null)
{%- endmacro %}

{#- A pre-hook for a model replaced by key whose batch can hold no row for a key that changed (its new
    version has no rows at all): on the engines that delete, the rows of every key in `changes` (a relation
    with the key and loaded_at) landed after the watermark are deleted before the batch is built, so such a
    key loses its old rows; the batch itself is then built from a watermark no later, so it covers every
    deleted key. Nothing outside incremental runs; where the engine replaces partitions a model with
    keys_can_vanish is a table (incremental_replace_config), so the hook never runs there. -#}
{% macro delete_changed_keys(key, changes) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ key }} in (select {{ key }} from {{ changes }} where loaded_at > {{ crm_kpis.incremental_watermark() }})
    {%- endif -%}
{%- endmacro %}

{#- A pre-hook for a model replaced by key: on the engines that delete, the rows whose key is no longer in
    `sources` (a relation with the key) are deleted, whatever removed it: a soft delete, or a hard delete in
    a CRM whose deleted rows simply stop arriving (SuperOffice sales). An anti-join over the keys only, so
    it is exact without a record of deletions. Where the engine replaces partitions such a model is a table
    (keys_can_vanish), so the hook never runs there. -#}
{% macro delete_vanished_keys(key, sources) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as target
    where not exists (select 1 from {{ sources }} as current_rows where current_rows.{{ key }} = target.{{ key }})
    {%- endif -%}
{%- endmacro %}

{#- An incremental model whose table was built by an earlier version of this project without `column` (its
    watermark or a key of its changes) cannot take the incremental path: a clear one-line error instead of a
    database error in the middle of the nightly build (the last good marts stay published). -#}
{% macro require_incremental_column(column) -%}
    {%- if execute and is_incremental() -%}
        {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if column | lower not in existing -%}
            {{ exceptions.raise_compiler_error(this ~ " was built by an earlier version of crm-kpis (it has no column "
                ~ column ~ "): rebuild it once with `crm-kpis refresh --full`") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- When the row was built: the start of the dbt invocation that (re)built it, the same for every model of
    one invocation. A model downstream of an incremental one finds the upstream rows rebuilt since its own
    last build by comparing their built_at with the newest built_at it holds; unlike a landing time it also
    moves when a row was rebuilt for a reason that landed nothing new (a deal whose account was deleted). -#}
{% macro built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The rows of `relation` a run builds: in an incremental run those whose `key` is in `changes` (a relation with
    that key column), in a full build every row. -#}
{% macro rows_to_rebuild(relation, key, changes) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where {{ key }} in (select {{ key }} from {{ changes }})
    {%- endif %}
{%- endmacro %}

{#- The rows of `upstream` (an incremental model with built_at) this model builds: in an incremental run those
    rebuilt since this model's own last build (built_at newer than the newest this model holds), in a full build
    every row. A model replaced by the same key reads exactly these; a build that failed or was skipped leaves
    its upstream rows newer still, so the next night takes them. -#}
{% macro rebuilt_since_last_build(upstream, columns='*') -%}
    select {{ columns }} from {{ upstream }}
    {%- if is_incremental() %}
    where built_at > {{ crm_kpis.incremental_watermark('built_at') }}
    {%- endif %}
{%- endmacro %}

{#- A pre-hook for a model replaced by key from an incremental upstream with built_at: on the engines that delete,
    the rows of every key the upstream rebuilt since this model's last build are deleted before the batch is built,
    so a key whose new upstream version has no row here loses its old one (a soft-deleted activity, whose upstream
    row is a tombstone). The batch is then built from a watermark no later than before, so it covers every deleted
    key. Where the engine replaces partitions such a model is a table (keys_can_vanish), so the hook never runs
    there. -#}
{% macro delete_keys_rebuilt_upstream(key, upstream) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ key }} in ({{ crm_kpis.rebuilt_since_last_build(upstream, key) }})
    {%- endif -%}
{%- endmacro %}

{#- The config of a model replaced by `key` from the rows its incremental upstream `upstream` (a model name)
    rebuilt since this model's last build: incremental where the engine deletes, with the pre-hooks
    delete_keys_rebuilt_upstream and, where the upstream deletes its rows of a vanished key (`upstream_deletes`),
    delete_vanished_keys against the upstream; on Spark on parquet a table (keys_can_vanish). -#}
{% macro rebuilt_upstream_config(key, upstream, upstream_deletes=true) -%}
    {%- set replaced = crm_kpis.incremental_replace_config(key=key, partition=none, keys_can_vanish=true) -%}
    {%- set hooks = ["{{ crm_kpis.delete_keys_rebuilt_upstream('" ~ key ~ "', ref('" ~ upstream ~ "')) }}"] -%}
    {%- if upstream_deletes -%}
        {%- do hooks.append("{{ crm_kpis.delete_vanished_keys('" ~ key ~ "', ref('" ~ upstream ~ "')) }}") -%}
    {%- endif -%}
    {%- do replaced.update({'pre_hook': hooks}) -%}
    {{ return(replaced) }}
{%- endmacro %}

{#- A record that only grows between full refreshes (int_opportunity_month_versions, int_activity_versions): appended to where the engine
    replaces by key; on Spark on parquet, whose facts by period are rebuilt whole (they are keys_can_vanish), a
    table rebuilt with each build instead of a record that would grow by every row of its upstream table each
    night (its upstream is rebuilt whole there too). -#}
{% macro incremental_append_config() -%}
    {{ return(adapter.dispatch('incremental_append_config', 'crm_kpis')()) }}
{%- endmacro %}

{% macro default__incremental_append_config() -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'append'}) }}
{%- endmacro %}

{% macro spark__incremental_append_config() -%}
    {{ return({'materialized': 'table', 'file_format': 'parquet'}) }}
{%- endmacro %}

{#- Keeps a record of versions (int_opportunity_month_versions, int_activity_versions) from growing without bound where
    no weekly full refresh rebuilds it (CRM_KPIS_FULL_REFRESH_WEEKDAY=none), as a pre-hook before a build appends to it.
    A model reading the record needs, per `key`, the latest version up to its own watermark and every newer one; so a
    version older than the key's latest one up to the oldest watermark of the models that read the record is never
    read again, and goes. A reader not built yet needs none (its first build is whole); a reader without built_at stops
    the compaction. Only once the record holds a tenth more versions than `entities` (a model name) holds rows: below
    that, the delete's scan would cost more each night than it saves. -#}
{% macro compact_versions(key, entities) -%}
    {%- if execute and is_incremental() -%}
        {%- set watermarks = [] -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and model.unique_id in node.depends_on.nodes -%}
            {%- if 'built_at' not in node.columns -%}
                {{ return('') }}
            {%- endif -%}
            {%- set reader = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if reader is not none -%}
                {%- do watermarks.append('(select max(built_at) from ' ~ reader ~ ')') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not watermarks -%}
            {{ return('') }}
        {%- endif -%}
        {%- set sizes = run_query('select (select count(*) from ' ~ this ~ '), (select count(*) from '
            ~ ref(entities) ~ '), least(' ~ watermarks | join(', ') ~ ')').rows[0] -%}
        {%- if sizes[2] is not none and sizes[0] > 1.1 * sizes[1] -%}
            {%- set oldest = "cast('" ~ sizes[2] ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    delete from {{ this }} as old
    where old.built_at <= {{ oldest }}
        and exists (
            select 1 from {{ this }} as newer
            where newer.{{ key }} = old.{{ key }} and newer.built_at > old.built_at and newer.built_at <= {{ oldest }}
        )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The months (`month_column` of int_opportunity_month_versions: close_month or created_month) whose rows a
    month-grain fact replaced by period_month must rebuild: those of every deal version appended since the fact's
    own last build (its newest built_at), and for each such deal the months of its latest version up to then, the
    version the fact was built from. A single-column query; a NULL month (an open deal's close month) is in no
    such fact, whose deals all count in the KPIs (a closed deal without a date or a deal without a creation time
    does not), so a plain `in` over it is exact. -#}
{% macro affected_months(month_column) -%}
    {%- set versions = ref('int_opportunity_month_versions') -%}
    {%- set watermark = crm_kpis.incremental_watermark('built_at') -%}
    select {{ month_column }} from {{ versions }} where built_at > {{ watermark }}
    union
    select {{ month_column }} from (
        select
            seen.{{ month_column }},
            row_number() over (partition by seen.opportunity_id order by seen.built_at desc) as version_rank
        from {{ versions }} as seen
        where seen.built_at <= {{ watermark }}
            and seen.opportunity_id in (select opportunity_id from {{ versions }} where built_at > {{ watermark }})
    ) as seen_versions
    where version_rank = 1
{%- endmacro %}

{#- The config of a month-grain fact built from the deals by `month_column` (close_month or created_month) and
    replaced by period_month: incremental where the engine deletes, a pre-hook deleting every affected month first
    (a month left with no row must lose its rows); on Spark on parquet a table (keys_can_vanish). -#}
{% macro deal_month_fact_config(month_column) -%}
    {%- set replaced = crm_kpis.incremental_replace_config(key='period_month', partition='period_month', keys_can_vanish=true) -%}
    {%- do replaced.update({'pre_hook': "{{ crm_kpis.delete_affected_months('" ~ month_column ~ "') }}"}) -%}
    {{ return(replaced) }}
{%- endmacro %}

{% macro delete_affected_months(month_column) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where period_month in ({{ crm_kpis.affected_months(month_column) }})
    {%- endif -%}
{%- endmacro %}

{#- The deals whose rows a month-grain fact built by `month_column` rebuilds (every deal in a full build). -#}
{% macro deals_in_affected_months(relation, month_column) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where {{ month_column }} in ({{ crm_kpis.affected_months(month_column) }})
    {%- endif %}
{%- endmacro %}

{#- The owner-periods (period_grain, period_start, owner_id) whose activity counts a build of int_activity_level_counts
    recounts: those of every version (int_activity_versions) of each activity int_activities_enriched rebuilt since the
    counts' own last build (its newest built_at), the version counted now and those counted before. More versions than
    the one the counts last saw only recount a group again, which is exact. -#}
{% macro affected_activity_groups() -%}
    {%- set versions = ref('int_activity_versions') -%}
    {%- set changed -%}
        select activity_id from {{ ref('int_activities_enriched') }} where built_at > {{ crm_kpis.incremental_watermark('built_at') }}
    {%- endset -%}
    select 'week' as period_grain, occurred_week as period_start, owner_id from {{ versions }} where activity_id in ({{ changed }})
    union
    select 'month' as period_grain, occurred_month as period_start, owner_id from {{ versions }} where activity_id in ({{ changed }})
{%- endmacro %}

{#- Whether the owner-period (`grain`, `period`, `owner`: SQL expressions) is one of `groups`; a period of NULL (an
    activity without a date) matches a NULL, through a sentinel date rather than `is not distinct from`, which Postgres
    cannot hash-join. -#}
{% macro same_activity_group(grain, period, owner, groups) -%}
    {{ groups }}.period_grain = {{ grain }} and {{ groups }}.owner_id = {{ owner }}
        and coalesce({{ groups }}.period_start, cast('1900-01-01' as date)) = coalesce({{ period }}, cast('1900-01-01' as date))
{%- endmacro %}

{#- A pre-hook of int_activity_level_counts: every affected owner-period is deleted before the build recounts them, so
    a group left without activities (its only activity deleted or moved) loses its row. -#}
{% macro delete_affected_activity_groups() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as counted
    where exists (
        select 1 from ({{ crm_kpis.affected_activity_groups() }}) as affected
        where {{ crm_kpis.same_activity_group('counted.period_grain', 'counted.period_start', 'counted.owner_id', 'affected') }}
    )
    {%- endif -%}
{%- endmacro %}

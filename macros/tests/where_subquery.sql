{#- Data tests in proportion to the build. dbt wraps the model of every generic data test in
    get_where_subquery; this project's version adds, in a nightly build, a filter to the rows the build wrote.

    The filter applies to a model whose table keeps rows across builds (materialized incremental) and that
    records the build of each row (a built_at column, doc block built_at), when the same invocation builds it:
    an incremental `dbt build` (not --full-refresh, which rebuilds and tests every row) that selects the model,
    with var data_tests_scope = rebuilt (the default; `all` tests every row every night). Its tests then read
    `built_at = <this build>`, or in a refresh every row built since the last publish: `built_at > validated_through`
    (environment variable CRM_KPIS_VALIDATED_THROUGH, which the refresh reads from the serving file and sets for its dbt
    build; orchestration/serving/publish.py), so the
    rows of a night whose build or gate failed are tested again until a build publishes them. That is exact for
    the tests of one row (not_null, accepted_values, between): an older row was tested by the build that wrote it
    and has not changed since. It is exact for a uniqueness
    test whose columns hold the model's replace key: a build replaces every row of a key it touches (delete+
    insert), or of a partition (insert_overwrite), so a duplicate can only be among the rows it wrote; a
    test in tests/test_dbt_incremental.py holds every such test to that. A relationship to a parent that later
    loses a row is found by the weekly full refresh (CRM_KPIS_FULL_REFRESH_WEEKDAY) and `crm-kpis refresh --full`,
    which test every row. A standalone `dbt test` tests every row. The views over landed rows (`int_*_unioned`) are
    scoped by landing time instead, in a refresh (landed_rows_condition below). -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where', ''), crm_kpis.rebuilt_rows_condition(),
                          crm_kpis.landed_rows_condition(relation)] | select | list -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (') ~ ')) dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- `built_at = <this build>` (or `built_at > <validated_through>`) for the model under test when its data tests
    read only the rows built since (see above), else ''. -#}
{% macro rebuilt_rows_condition() -%}
    {%- if var('data_tests_scope') not in ('rebuilt', 'all') -%}
        {{ exceptions.raise_compiler_error("data_tests_scope (CRM_KPIS_DATA_TESTS_SCOPE): '" ~ var('data_tests_scope')
            ~ "' is none of rebuilt, all") }}
    {%- endif -%}
    {%- set tested = crm_kpis.tested_in_this_build() -%}
    {%- if tested and tested.config.materialized == 'incremental' and 'built_at' in tested.columns -%}
        {#- read while executing, never while parsing: a dbt var that changes each night would make every night's
            dbt parse the whole project again (~5 s), an environment variable read at parse time the files using it -#}
        {%- set through = env_var('CRM_KPIS_VALIDATED_THROUGH', '') -%}
        {%- if not through -%}
            {%- do return('built_at = ' ~ crm_kpis.built_at()) -%}
        {%- endif -%}
        {%- do return("built_at > " ~ crm_kpis.validated_through_timestamp(through)) -%}
    {%- endif -%}
    {%- do return('') -%}
{%- endmacro %}

{#- CRM_KPIS_VALIDATED_THROUGH as a timestamp literal, or a one-line error naming it. -#}
{% macro validated_through_timestamp(through) -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?$', through | string) -%}
        {{ exceptions.raise_compiler_error("CRM_KPIS_VALIDATED_THROUGH: '" ~ through
            ~ "' is no timestamp like 2026-06-30 02:00:00.000000") }}
    {%- endif -%}
    {%- do return("cast('" ~ through ~ "' as " ~ dbt.type_timestamp() ~ ")") -%}
{%- endmacro %}

{#- The model the data test being compiled tests, when the build's tests may be scoped to what changed: an incremental
    `dbt build` (not --full-refresh) with data_tests_scope = rebuilt that selects the model; else none. -#}
{% macro tested_in_this_build() -%}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH or var('data_tests_scope') == 'all' -%}
        {%- do return(none) -%}
    {%- endif -%}
    {#- `model` is the test being compiled; the node it tests is its attached node (none for a source's test) -#}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- do return(tested if tested and tested.resource_type == 'model' and tested.unique_id in selected_resources else none) -%}
{%- endmacro %}

{#- Views over landed rows (the `int_*_unioned` views) in a refresh's nightly build: their data tests read the rows
    landed since the last publish (loaded_at after CRM_KPIS_VALIDATED_THROUGH, or without a landing time), and a
    uniqueness test every row of a key landed since, so a new row repeating an old key is found. Exact when each
    row of the view is one landed row as landed (seed maps aside, whose change needs `crm-kpis refresh --full`): an
    older row was in the view and tested by the build before that publish and has not changed since. Such views and
    their staging views say so (meta `one_row_per_landed_row`, dbt_project.yml: the files source only; the other
    CRMs' staging joins several raw tables, where a row can change without landing again), and a test of any other
    kind (unique_combination, relationships) reads every row. Without CRM_KPIS_VALIDATED_THROUGH (a `dbt build` by
    hand) every row is tested. At 10M opportunities this is about 15 s of every night (the leads' and activities'
    unique keys 6 s each). -#}
{% macro landed_rows_condition(relation) -%}
    {%- set tested = crm_kpis.tested_in_this_build() -%}
    {%- set through = env_var('CRM_KPIS_VALIDATED_THROUGH', '') if tested else '' -%}
    {%- if not through or tested.config.materialized != 'view' or 'loaded_at' not in tested.columns
            or not (tested.config.meta or {}).get('one_row_per_landed_row') -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- for parent in tested.depends_on.nodes if parent.startswith('model.') -%}
        {%- if not (graph.nodes[parent].config.meta or {}).get('one_row_per_landed_row') -%}
            {%- do return('') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set landed = "loaded_at > " ~ crm_kpis.validated_through_timestamp(through) ~ " or loaded_at is null" -%}
    {%- set kind = model.test_metadata.name if model.test_metadata else none -%}
    {%- if kind == 'unique' -%}
        {%- set key = model.test_metadata.kwargs.column_name -%}
        {%- do return(key ~ " in (select " ~ key ~ " from " ~ relation ~ " where " ~ landed ~ ")") -%}
    {%- elif kind in ('not_null', 'accepted_values', 'between') -%}
        {%- do return(landed) -%}
    {%- endif -%}
    {%- do return('') -%}
{%- endmacro %}

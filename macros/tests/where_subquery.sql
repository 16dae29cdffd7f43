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
    which test every row. A standalone `dbt test` tests every row. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where', ''), crm_kpis.rebuilt_rows_condition()] | select | list -%}
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
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH or var('data_tests_scope') == 'all' -%}
        {%- do return('') -%}
    {%- endif -%}
    {#- `model` is the test being compiled; the node it tests is its attached node (none for a source's test) -#}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if tested and tested.resource_type == 'model' and tested.config.materialized == 'incremental'
            and 'built_at' in tested.columns and tested.unique_id in selected_resources -%}
        {#- read while executing, never while parsing: a dbt var that changes each night would make every night's
            dbt parse the whole project again (~5 s), an environment variable read at parse time the files using it -#}
        {%- set through = env_var('CRM_KPIS_VALIDATED_THROUGH', '') -%}
        {%- if not through -%}
            {%- do return('built_at = ' ~ crm_kpis.built_at()) -%}
        {%- endif -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?$', through | string) -%}
            {{ exceptions.raise_compiler_error("CRM_KPIS_VALIDATED_THROUGH: '" ~ through
                ~ "' is no timestamp like 2026-06-30 02:00:00.000000") }}
        {%- endif -%}
        {%- do return("built_at > cast('" ~ through ~ "' as " ~ dbt.type_timestamp() ~ ")") -%}
    {%- endif -%}
    {%- do return('') -%}
{%- endmacro %}

{#- Data tests in proportion to the build. dbt wraps the model of every generic data test in
    get_where_subquery; this project's version adds, in a nightly build, a filter to the rows the build wrote.

    The filter applies to a model whose table keeps rows across builds (materialized incremental) and that
    records the build of each row (a built_at column, doc block built_at), when the same invocation builds it:
    an incremental `dbt build` (not --full-refresh, which rebuilds and tests every row) that selects the model,
    with var data_tests_scope = rebuilt (the default; `all` tests every row every night). Its tests then read
    `built_at = <this build>`. That is exact for the tests of one row (not_null, accepted_values, between): an
    older row was tested by the build that wrote it and has not changed since. It is exact for a uniqueness
    test whose columns hold the model's replace key: a build replaces every row of a key it touches (delete+
    insert), or of a partition (insert_overwrite), so a duplicate can only be among the rows it wrote; a
    test in tests/test_data_tests_scope.py holds every such test to that. A relationship to a parent that later
    loses a row is found by the weekly full refresh (CRM_KPIS_FULL_REFRESH_WEEKDAY) and `crm-kpis refresh --full`,
    which test every row. A standalone `dbt test` tests every row. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where', ''), crm_kpis.rebuilt_rows_condition(relation)] | select | list -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (') ~ ')) dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- `built_at = <this build>` for the model behind `relation` when its data tests read only the rows this build
    wrote (see above), else ''. -#}
{% macro rebuilt_rows_condition(relation) -%}
    {%- if var('data_tests_scope') not in ('rebuilt', 'all') -%}
        {{ exceptions.raise_compiler_error("data_tests_scope (CRM_KPIS_DATA_TESTS_SCOPE): '" ~ var('data_tests_scope')
            ~ "' is none of rebuilt, all") }}
    {%- endif -%}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH or var('data_tests_scope') == 'all' -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.config.materialized == 'incremental' and 'built_at' in node.columns
            and node.unique_id in selected_resources
            and (node.alias or node.name) | lower == relation.identifier | lower and node.schema | lower == relation.schema | lower -%}
        {%- do return('built_at = ' ~ crm_kpis.built_at()) -%}
    {%- endfor -%}
    {%- do return('') -%}
{%- endmacro %}

{#- Sales targets of users (target_assignment_info.associate_id), amount targets of sales only
    (target_group.entity_type 1), without a dimension split. Period from the group's year, period
    type (1 year, 2 half-year, 3 quarter, 4 month) and the period's number. Targets of teams or the
    whole company are not quotas of a rep and are left out. -#}
{%- set info_relation = source('superoffice', 'target_assignment_info') %}

with target_group as (
    select * from {{ source('superoffice', 'target_group') }}
    where entity_type = 1 and period_type in (1, 2, 3, 4)
),

target_period as (
    select * from {{ source('superoffice', 'target_period') }}
),

assignment_info as (
    select * from {{ info_relation }}
    where associate_id <> 0
        and coalesce({{ crm_kpis.optional_column(info_relation, 'target_dimension_item_id', dbt.type_int()) }}, 0) = 0
),

assignment_value as (
    select * from {{ source('superoffice', 'target_assignment_value') }}
),

currency as (
    select * from {{ source('superoffice', 'currency') }}
),

periods as (
    select
        target_period.target_period_id,
        target_group.target_group_id,
        cast({{ dbt.concat(["cast(target_group.year as " ~ dbt.type_string() ~ ")", "'-01-01'"]) }} as date) as year_start,
        case target_group.period_type when 1 then 12 when 2 then 6 when 3 then 3 else 1 end as months,
        target_period.period_number
    from target_period
    inner join target_group on target_period.target_group_id = target_group.target_group_id
),

period_bounds as (
    select
        target_period_id,
        cast({{ dbt.dateadd('month', '(period_number - 1) * months', 'year_start') }} as date) as period_start,
        months
    from periods
)

select
    cast(assignment_info.associate_id as {{ dbt.type_string() }}) as user_id,
    period_bounds.period_start,
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 'period_bounds.months', 'period_bounds.period_start')) }} as date) as period_end,
    cast(assignment_value.target_value as {{ dbt.type_numeric() }}) as quota_amount,
    upper(coalesce(cast(currency.isocode as {{ dbt.type_string() }}), {{ crm_kpis.default_currency('superoffice') }})) as currency
from assignment_value
inner join assignment_info on assignment_value.target_assignment_info_id = assignment_info.target_assignment_info_id
inner join period_bounds on assignment_value.target_period_id = period_bounds.target_period_id
left join currency on assignment_info.currency_id = currency.currency_id and assignment_info.currency_id <> 0

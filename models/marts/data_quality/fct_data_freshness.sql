{#- How recent the landed data of each CRM source is: the newest opportunity change and the newest
    history change, with their age at the end of the build date (var as_of_date). The quality gate
    blocks a publish when a source is older than CRM_KPIS_GATE_MAX_DATA_AGE_DAYS. -#}
with changes as (
    select source_system, 'opportunities.updated_at' as measured_column, max(updated_at) as newest_change_at
    from {{ ref('int_opportunities_unioned') }}
    group by source_system
    union all
    select source_system, 'opportunity_history.changed_at' as measured_column, max(changed_at) as newest_change_at
    from {{ ref('int_opportunity_history_unioned') }}
    group by source_system
),

build_end as (
    -- midnight after the build date, business time zone, as UTC
    select {{ crm_kpis.local_to_utc("cast(" ~ dbt.dateadd('day', 1, crm_kpis.as_of_date()) ~ " as " ~ dbt.type_timestamp() ~ ")") }} as ends_at
)

select
    changes.source_system,
    changes.measured_column,
    changes.newest_change_at,
    {{ crm_kpis.as_of_date() }} as as_of_date,
    {#- a double before the division: Spark divides by a decimal literal into 7 decimal places -#}
    {{ crm_kpis.to_ratio(dbt.datediff('changes.newest_change_at', 'build_end.ends_at', 'second')) }} / 86400 as age_days
from changes
cross join build_end

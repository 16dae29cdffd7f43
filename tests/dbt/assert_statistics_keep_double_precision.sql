{#- The statistics macros in doubles on every engine, against the same formulas in Python (float64) to
    1e-12. A decimal anywhere in them (`1.0 * x` is one on Spark) rounds a product to 6 places: at
    100,000 deals that moved Spark's z scores by 5e-7. A row returned is a value off. -#}
with computed as (
    select 'z large' as value_name,
        {{ crm_kpis.two_proportion_z('123457', '234567', '98765', '200001') }} as computed, cast(21.35969736971141 as {{ crm_kpis.type_double() }}) as expected
    union all
    select 'z small', {{ crm_kpis.two_proportion_z('7', '11', '3', '13') }}, cast(2.0081751001262895 as {{ crm_kpis.type_double() }})
    union all
    select 'wilson lower', {{ crm_kpis.wilson_bound('123457', '234567', 'lower') }}, cast(0.5242976463265531 as {{ crm_kpis.type_double() }})
    union all
    select 'wilson upper', {{ crm_kpis.wilson_bound('123457', '234567', 'upper') }}, cast(0.5283389043878559 as {{ crm_kpis.type_double() }})
    union all
    select 'ratio', {{ crm_kpis.ratio('7 * 12345', '31') }}, cast(2787.5806451612902 as {{ crm_kpis.type_double() }})
)

select value_name, computed, expected
from computed
where computed is null or abs(computed - expected) > 1e-12 * abs(expected)

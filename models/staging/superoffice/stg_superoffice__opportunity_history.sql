{#- Sale versions: the salehist copies plus the current sale, each valid from its `updated` time
    (registered for a never-edited version), consecutive versions with the same stage and status
    dropped. SuperOffice's documentation says both that salehist keeps the version before an edit
    and the version after it; every copy carries its own `updated`, so either reading gives the same
    versions here. Only GUI edits are historised: sales edited by API or import have sparse history. -#}

with sale as (
    select * from {{ source('superoffice', 'sale') }}
),

salehist as (
    select * from {{ source('superoffice', 'salehist') }}
),

prob as (
    select * from {{ source('superoffice', 'prob') }}
),

currency as (
    select * from {{ source('superoffice', 'currency') }}
),

versions as (
    select
        salehist.sale_id, salehist.salehist_id as version_order, salehist.status, salehist.probability_idx,
        salehist.probability, salehist.amount, salehist.currency_id, salehist.saledate,
        coalesce(salehist.updated, salehist.registered) as changed_at
    from salehist
    inner join sale on salehist.sale_id = sale.sale_id
    union all
    select
        sale_id, null as version_order, status, probability_idx, probability, amount, currency_id, saledate,
        coalesce(updated, registered) as changed_at
    from sale
),

ordered as (
    select
        versions.*,
        lag(status) over (partition by sale_id order by changed_at, version_order nulls last) as previous_status,
        lag(probability_idx) over (partition by sale_id order by changed_at, version_order nulls last) as previous_probability_idx,
        lag(amount) over (partition by sale_id order by changed_at, version_order nulls last) as previous_amount,
        lag(saledate) over (partition by sale_id order by changed_at, version_order nulls last) as previous_saledate,
        lag(probability) over (partition by sale_id order by changed_at, version_order nulls last) as previous_probability
    from versions
),

changes as (
    select *
    from ordered
    where previous_status is null
        or status <> previous_status
        or probability_idx <> previous_probability_idx
        or coalesce(amount, -1) <> coalesce(previous_amount, -1)
        or coalesce(cast(saledate as date), cast('1900-01-01' as date)) <> coalesce(cast(previous_saledate as date), cast('1900-01-01' as date))
        or coalesce(probability, -1) <> coalesce(previous_probability, -1)
)

select
    cast(changes.sale_id as {{ dbt.type_string() }}) as opportunity_id,
    cast(changes.changed_at as {{ dbt.type_timestamp() }}) as changed_at,
    {{ crm_kpis.superoffice_stage('changes.status', 'prob.name') }} as stage,
    cast(changes.amount as {{ dbt.type_numeric() }}) as amount,
    upper(coalesce(cast(currency.isocode as {{ dbt.type_string() }}), {{ crm_kpis.default_currency('superoffice') }})) as currency,
    cast(changes.saledate as date) as expected_close_date,
    cast(changes.probability as {{ crm_kpis.type_double() }}) as probability,
    {{ crm_kpis.superoffice_forecast_category('changes.status') }} as forecast_category,
    cast(changes.changed_at as {{ dbt.type_timestamp() }}) as loaded_at
from changes
left join prob on changes.probability_idx = prob.prob_id and changes.probability_idx <> 0
left join currency on changes.currency_id = currency.currency_id and changes.currency_id <> 0

{#- Follow-ups in the shared shape. The type comes from the follow-up type (Task.record_type 1
    meeting, 5 phone call, 3 e-mail, 6 to-do) or, for a document follow-up, from its template
    (DocTmpl.record_type 3 e-mail; other documents count as other). Our reading of the SuperOffice
    documentation: admins offer only meeting, phone call and to-do as follow-up types, and archived
    e-mails are document follow-ups with an e-mail template, so both e-mail paths are read. Notes,
    saved reports and mail-merge drafts are not activities; a booking is counted once, on its master
    (mother_id 0 or itself). Completed = status 3. Times are local to the base time zone. -#}
with appointment as (
    select * from {{ source('superoffice', 'appointment') }}
    where type in (1, 2, 4, 6, 7)
        and coalesce(mother_id, 0) in (0, appointment_id)
),

task as (
    select * from {{ source('superoffice', 'task') }}
),

doctmpl as (
    select * from {{ source('superoffice', 'doctmpl') }}
),

typed as (
    select
        appointment.*,
        case
            when coalesce(appointment.document_id, 0) <> 0 then
                case doctmpl.record_type when 3 then 'email' else 'other' end
            else
                case task.record_type when 1 then 'meeting' when 5 then 'call' when 3 then 'email' when 6 then 'task' else 'other' end
        end as activity_type,
        case when coalesce(appointment.document_id, 0) <> 0 then doctmpl.name else task.name end as type_name
    from appointment
    left join task on appointment.task_idx = task.task_id and coalesce(appointment.document_id, 0) = 0
    left join doctmpl on appointment.task_idx = doctmpl.doctmpl_id and coalesce(appointment.document_id, 0) <> 0
)

select
    cast(appointment_id as {{ dbt.type_string() }}) as activity_id,
    cast(type_name as {{ dbt.type_string() }}) as activity_type_value,
    activity_type,
    {{ crm_kpis.superoffice_local_to_utc('coalesce(activedate, do_by)') }} as occurred_at,
    status = 3 as is_completed,
    {{ crm_kpis.key_or_null('associate_id') }} as owner_id,
    {{ crm_kpis.key_or_null('contact_id') }} as account_id,
    {{ crm_kpis.key_or_null('sale_id') }} as opportunity_id,
    {{ crm_kpis.key_or_null('person_id') }} as lead_id,
    case when activity_type = 'meeting' and enddate > do_by
        then {{ dbt.datediff('do_by', 'enddate', 'minute') }} end as duration_minutes,
    cast(coalesce(updated, registered) as {{ dbt.type_timestamp() }}) as updated_at,
    cast(coalesce(updated, registered) as {{ dbt.type_timestamp() }}) as loaded_at
from typed

{{ config(materialized='view') }}
{{ crm_kpis.union_crm_sources('quotas') }}

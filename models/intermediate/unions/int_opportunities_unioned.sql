{{ config(materialized='view') }}
{{ crm_kpis.union_crm_sources_with_funnel_stages('opportunities') }}

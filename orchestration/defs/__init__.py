"""The Dagster code location, one module per integration: landing, dbt (assets and translator), the
quality gate, publishing, automation (job, schedule, sensors). `build_definitions(settings)` builds it
for one Settings object; `code_location` is what `dagster dev` and the daemon load."""

"""dbt in Dagster: the project (and how its manifest is prepared), the translator, the assets."""

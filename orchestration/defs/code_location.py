"""What `dagster dev` (`make ui`) and the daemon load: the definitions for the settings of this process's
environment. Under `dagster dev` the dbt manifest is prepared here; elsewhere it must exist (`make
manifest`, or any `crm-kpis refresh` of the same home)."""

from orchestration.defs.dbt.project import prepare_manifest_if_dev
from orchestration.defs.definitions import build_definitions
from orchestration.settings import Settings

settings = Settings.from_environment()
prepare_manifest_if_dev(settings)
defs = build_definitions(settings)

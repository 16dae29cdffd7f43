"""Where things live, from environment variables with defaults relative to the working folder."""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    return Path(os.environ.get("CRM_KPIS_HOME", "data"))


def landing_dir() -> Path:
    return Path(os.environ.get("CRM_KPIS_LANDING", str(home_dir() / "landing")))


def warehouse_path() -> Path:
    return Path(os.environ.get("CRM_KPIS_WAREHOUSE", str(home_dir() / "warehouse.duckdb")))


def dbt_artifacts_dir() -> Path:
    """dbt's target folder for the refresh: the manifest the Dagster definitions read and one folder
    per run. Under the home, so refreshes of different homes never share or race for it."""
    return Path(os.environ.get("CRM_KPIS_DBT_TARGET", str(home_dir() / "dbt"))).resolve()


def serving_dir() -> Path:
    """Where BI tools read: the published DuckDB file and Parquet exports (never written in place)."""
    return Path(os.environ.get("CRM_KPIS_SERVING", str(home_dir() / "serving")))


def dashboard_dir() -> Path:
    """Where every publish (and `crm-kpis dashboard`) writes the HTML dashboard, index.html."""
    return Path(os.environ.get("CRM_KPIS_DASHBOARD", str(serving_dir() / "dashboard")))


def quality_dir() -> Path:
    """Great Expectations' file context (Data Docs, validation results) and the gate's reports."""
    return Path(os.environ.get("CRM_KPIS_QUALITY", str(home_dir() / "quality")))


def business_timezone() -> str:
    return os.environ.get("CRM_KPIS_BUSINESS_TIMEZONE", "Europe/Copenhagen")


def crm_sources() -> list[str]:
    """The CRM sources dbt reads (dbt var crm_sources defaults to the same variable)."""
    return [name.strip().lower() for name in os.environ.get("CRM_KPIS_SOURCES", "crm").split(",") if name.strip()]


# Environment variables that change what dbt parses (enabled models, rendered vars): the Dagster
# definitions are built from a manifest parsed under the same values.
DBT_PARSE_ENVIRONMENT = ("CRM_KPIS_SOURCES", "CRM_KPIS_REPORTING_CURRENCY", "CRM_KPIS_BUSINESS_TIMEZONE")


def refresh_cron() -> str:
    return os.environ.get("CRM_KPIS_REFRESH_CRON", "0 2 * * *")


def as_of_date_override() -> str | None:
    """The pinned "today" of point-in-time KPIs (also read by dbt, see macros/as_of_date.sql)."""
    return os.environ.get("CRM_KPIS_AS_OF_DATE") or None


def gate_max_row_change() -> float:
    """A mart may shrink to (1 - x) or grow to 1 / (1 - x) of its published row count."""
    return float(os.environ.get("CRM_KPIS_GATE_MAX_ROW_CHANGE", "0.5"))


def gate_max_bookings_change() -> float:
    """Total bookings may move by this share against the published version (history barely changes)."""
    return float(os.environ.get("CRM_KPIS_GATE_MAX_BOOKINGS_CHANGE", "0.2"))


def gate_max_data_age_days() -> float:
    """The newest landed opportunity change may be at most this many days older than the build date."""
    return float(os.environ.get("CRM_KPIS_GATE_MAX_DATA_AGE_DAYS", "3"))

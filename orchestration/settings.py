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

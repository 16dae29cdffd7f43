from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.landing import LandingReport, land_directory


class Warehouse:
    """A real DuckDB warehouse file in the test's own folder, landed from its own landing folder."""

    def __init__(self, root: Path) -> None:
        self.landing = root / "landing"
        self.path = root / "warehouse.duckdb"
        self.landing.mkdir()

    def write(self, relative: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    def land(self) -> LandingReport:
        return land_directory(self.landing, self.path)

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql, parameters or []).fetchall()


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)

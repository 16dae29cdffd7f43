from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.engines.local_postgres import LocalPostgres
from orchestration.landing import LandingReport, land_directory
from tests.engine_builds import EngineBuilds


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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heaviest modules first (`pytestmark = pytest.mark.seconds(n)`), the rest in file order. `make test`
    hands whole files to its two workers in this order (--dist loadfile --no-loadscope-reorder): xdist's own
    order, most tests first, started the few long refresh and engine files last, and the suite waited minutes
    on one worker's tail. The sort is stable, so a module keeps the order pytest gave its tests."""
    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("seconds")
        return float(marker.args[0]) if marker else 0.0

    items.sort(key=lambda item: -seconds(item))



# --- engines: real servers, each data set built once per engine and per test process --------------------

@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def engine_builds(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[EngineBuilds]:
    builds = EngineBuilds(tmp_path_factory.mktemp("engine_builds"), lambda: request.getfixturevalue("postgres_server"))
    try:
        yield builds
    finally:
        builds.close()
        if builds.build_seconds:
            print("\nengine builds (s): " + ", ".join(f"{data_set} on {name} {seconds:.0f}"
                                                     for (data_set, name), seconds in builds.build_seconds.items()))

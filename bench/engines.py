"""The same dbt build on DuckDB, Postgres and Spark local, side by side (docs/scaling_out.md):

    .venv/bin/python -m bench.engines --opportunities 100000

generates a synthetic CRM, lands it into DuckDB once, then on each engine copies the raw tables onto it and
runs the full `dbt build` (every model, data test and unit test), and checks every mart against DuckDB's.
Postgres is a throw-away local server unless PGHOST is set; Spark runs in-process (local[*])."""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from orchestration.dbt.runner import run_dbt
from orchestration.engines import ENGINES, Engine
from orchestration.engines.duckdb_engine import DuckDBEngine
from orchestration.engines.local_postgres import LocalPostgres
from orchestration.engines.parity import compare_tables
from orchestration.engines.postgres import PostgresEngine
from orchestration.engines.spark import SparkEngine
from orchestration.generator import GeneratorSettings, generate_landing
from orchestration.landing import land_directory
from orchestration.settings import Settings, SparkConfig

AS_OF = date(2026, 6, 30)


def measure(engine: Engine, warehouse: Path) -> dict[str, object]:
    started = time.monotonic()
    copied = engine.copy_raw_tables(warehouse)
    copy_seconds = time.monotonic() - started
    started = time.monotonic()
    result = run_dbt(["build"], warehouse, quiet=True, as_of=AS_OF, engine=engine)
    build_seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"dbt build failed on {engine.name}:\n{result.stdout[-3000:]}")
    started = time.monotonic()
    marts = engine.read_schema("marts")
    read_seconds = time.monotonic() - started
    summary = [line for line in result.stdout.splitlines() if "PASS=" in line]
    return {"copy": copy_seconds, "build": build_seconds, "read": read_seconds, "marts": marts,
            "raw_rows": sum(copied.values()), "summary": summary[-1].split("Done.", 1)[-1].strip() if summary else ""}


def compare_engines(opportunities: int, engines: list[str], work: Path) -> list[str]:
    """Generate and land `opportunities`, build on each engine, compare every mart with the first engine's:
    a markdown table (what `make bench` writes into docs/benchmarks.md) and each build's dbt summary."""
    landing, warehouse = work / "landing", work / "warehouse.duckdb"
    generate_landing(GeneratorSettings(opportunities, 5, AS_OF), landing, "parquet")
    report = land_directory(landing, warehouse)
    results: dict[str, dict[str, object]] = {}
    server = None
    try:
        for name in engines:
            if name == "duckdb":
                engine: Engine = DuckDBEngine(warehouse)
            elif name == "postgres":
                if not os.environ.get("PGHOST"):
                    server = LocalPostgres().start()
                engine = PostgresEngine(server.settings if server else Settings.from_environment().postgres)
            else:
                engine = SparkEngine(SparkConfig(home=work / "spark", master="local[*]"))
            with engine:
                results[name] = measure(engine, warehouse)
    finally:
        if server is not None:
            server.stop()

    reference_name = next(iter(results))
    reference = results[reference_name]["marts"]
    lines = [f"{opportunities:,} opportunities, {report.rows_landed:,} landed rows; "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, DuckDB {duckdb.__version__}", "",
             "| engine | copy raw tables (s) | dbt build (s) | read marts back (s) | marts equal to " + reference_name + " |",
             "|---|---:|---:|---:|---|"]
    for name, result in results.items():
        comparisons = [compare_tables(mart, table, result["marts"][mart]) for mart, table in reference.items()]
        unequal = [comparison.table for comparison in comparisons if not comparison.equal]
        money = max(comparison.largest_money_difference for comparison in comparisons)
        ratio = max(comparison.largest_ratio_difference for comparison in comparisons)
        verdict = f"all {len(comparisons)}" if not unequal else "not: " + ", ".join(unequal)
        lines.append(f"| {name} | {result['copy']:.1f} | {result['build']:.1f} | {result['read']:.1f} | {verdict} "
                     f"(largest money gap {money}, ratio gap {ratio:.1e}) |")
    lines.append("")
    lines += [f"- {name}: {result['summary']}" for name, result in results.items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    arguments = parser.parse_args()
    work = arguments.work or Path(tempfile.mkdtemp(prefix="crm-kpis-engines-"))
    print("\n".join(compare_engines(arguments.opportunities, arguments.engines, work)))


if __name__ == "__main__":
    main()

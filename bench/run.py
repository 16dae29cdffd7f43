"""The benchmark: one command that generates data at each size, times every step of the pipeline (wall
time and peak memory, each step its own process), compares the core KPI subset with a hand-written
DuckDB reference and a naive pandas version (and checks all three agree), measures a nightly
incremental refresh after 1 % new and changed rows, and writes docs/benchmarks.md.

    .venv/bin/python -m bench.run --sizes 100000 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.dbt.runner import LEFT_TO_THE_GATE
from orchestration.serving.publish import SERVING_FILE_NAME, VALIDATED_THROUGH_VARIABLE, validated_through
from orchestration.settings import ENGINES

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AS_OF = date(2026, 6, 30)
CORE_MODELS = ("+fct_kpi_win_rate", "+fct_kpi_average_deal_size", "+fct_kpi_sales_cycle", "+fct_kpi_activity_level")
NIGHTLY_SHARE = 0.01
PIPELINE_STEPS = ("land", "dbt build (full)", "quality gate", "publish", "pipeline: core KPI subset", "land (nightly)",
                  "dbt build (nightly, incremental)", "quality gate (nightly)", "publish (nightly)")
# a refresh end to end: landing, dbt, the gate and the publish
FULL_REFRESH_STEPS = ("land", "dbt build (full)", "quality gate", "publish")
NIGHTLY_REFRESH_STEPS = ("land (nightly)", "dbt build (nightly, incremental)", "quality gate (nightly)", "publish (nightly)")
ANALYSIS_MARKER = "<!-- analysis: written by hand, kept by bench.run -->"

PIPELINE_CORE_SQL = {
    "win_rate": """select period_month, owner_id, sum(won_count) as won_count, sum(lost_count) as lost_count,
        sum(won_amount) as won_amount, sum(lost_amount) as lost_amount from marts.fct_kpi_win_rate group by all""",
    "average_deal_size": """select period_month, owner_id, sum(won_count) as won_count, sum(won_amount) as won_amount
        from marts.fct_kpi_average_deal_size group by all""",
    "sales_cycle": """select period_month, owner_id, sum(won_count) as won_count, sum(won_cycle_days_sum) as won_cycle_days_sum
        from marts.fct_kpi_sales_cycle group by all""",
    "activities_per_week": """select period_start, owner_id, sum(activity_count) as activity_count
        from marts.fct_kpi_activity_level where period_grain = 'week' group by all""",
}
MEASURES = {
    "win_rate": ("won_count", "lost_count", "won_amount", "lost_amount"),
    "average_deal_size": ("won_count", "won_amount"),
    "sales_cycle": ("won_count", "won_cycle_days_sum"),
    "activities_per_week": ("activity_count",),
}


@dataclass
class Step:
    name: str
    seconds: float
    peak_mib: float
    note: str = ""


@dataclass
class SizeResult:
    opportunities: int
    rows_landed: int = 0
    steps: list[Step] = field(default_factory=list)
    reference_seconds: float = 0.0
    pandas_seconds: float = 0.0
    consistent: bool = False
    disagreements: dict[str, int] = field(default_factory=dict)
    # seconds per dbt node of the full and of the nightly build, slowest first (dbt's run_results.json)
    node_seconds: dict[str, dict[str, float]] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)


def measured(name: str, command: list[str], environment: dict[str, str], note: str = "") -> Step:
    """Run one step in its own process under /usr/bin/time: wall seconds and peak resident memory."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        started = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", timing.name, *command], env=environment,
                                capture_output=True, text=True, cwd=PROJECT_DIR)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        peak_kib = float(timing.read().strip().splitlines()[-1])
    step = Step(name, round(seconds, 2), round(peak_kib / 1024, 1), note)
    print(f"  {name:<34} {step.seconds:9.1f} s {step.peak_mib:9.0f} MiB {note}", flush=True)
    return step


def dbt_command(work: Path, *arguments: str) -> list[str]:
    """dbt the way the product runs it (`crm-kpis dbt`: the settings' engine and vars); artifacts in
    <work>/target/manual (CRM_KPIS_DBT_TARGET below)."""
    return [str(BIN / "crm-kpis"), "dbt", *arguments, "--quiet"]


def node_seconds(work: Path) -> dict[str, float]:
    """Seconds per model, seed, snapshot and test of the last dbt invocation, slowest first; the data tests
    as one line (there are ~200 of them, each a second or less)."""
    results = json.loads((work / "target" / "manual" / "run_results.json").read_text())["results"]
    seconds: dict[str, float] = {}
    for node in results:
        kind, name = node["unique_id"].split(".")[0], node["unique_id"].split(".")[-1]
        key = "data tests (all)" if kind in ("test", "unit_test") else name
        seconds[key] = seconds.get(key, 0.0) + node["execution_time"]
    return {name: round(value, 2) for name, value in sorted(seconds.items(), key=lambda item: -item[1])}


def compare_core_kpis(warehouse: Path, reference: Path, pandas_out: Path) -> dict[str, int]:
    """Rows (owner x period) where the marts, the reference and pandas disagree, per KPI (all 0 = consistent)."""
    disagreements = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{warehouse}' as warehouse (read_only)")
        connection.execute("use warehouse")
        for kpi, sql in PIPELINE_CORE_SQL.items():
            period = "period_start" if kpi == "activities_per_week" else "period_month"
            measures = MEASURES[kpi]
            sources = {"pipeline": f"({sql})", "reference": f"read_parquet('{reference / (kpi + '.parquet')}')",
                       "pandas": f"read_parquet('{pandas_out / (kpi + '.parquet')}')"}
            normalised = {name: f"(select cast({period} as date) as period, owner_id, "
                                + ", ".join(f"cast({measure} as double) as {measure}" for measure in measures) + f" from {source})"
                          for name, source in sources.items()}
            conditions = " or ".join(
                f"abs(coalesce(p.{measure}, 0) - coalesce(r.{measure}, 0)) > 0.01 or abs(coalesce(p.{measure}, 0) - coalesce(n.{measure}, 0)) > 0.01"
                for measure in measures)
            disagreements[kpi] = connection.execute(f"""
                select count(*) from {normalised['pipeline']} p
                full join {normalised['reference']} r using (period, owner_id)
                full join {normalised['pandas']} n using (period, owner_id)
                where {conditions}""").fetchone()[0]
    return disagreements


def run_size(opportunities: int, base: Path, keep: bool, reuse_landing: bool = False) -> SizeResult:
    work = base / f"opportunities_{opportunities}"
    landing, warehouse, serving = work / "landing", work / "warehouse.duckdb", work / "serving"
    reused = reuse_landing and (landing / "opportunities").exists()
    if reused:  # keep the generated files (a 10M generation takes minutes), start every other step afresh
        for path in work.iterdir():
            if path != landing:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "CRM_KPIS_HOME": str(work), "CRM_KPIS_WAREHOUSE": str(warehouse),
                   "CRM_KPIS_DBT_TARGET": str(work / "target"), "CRM_KPIS_AS_OF_DATE": AS_OF.isoformat(),
                   "PYTHONPATH": str(PROJECT_DIR)}
    result = SizeResult(opportunities)
    print(f"\n{opportunities:,} opportunities in {work}", flush=True)
    crm_kpis = str(BIN / "crm-kpis")
    python = str(BIN / "python")
    if reused:
        print("  generate: reusing the landing files already generated", flush=True)
        for extra in landing.rglob("nightly.parquet"):  # a previous run's nightly changes are not part of the base
            extra.unlink()
    else:
        result.steps.append(measured("generate", [crm_kpis, "generate", "--opportunities", str(opportunities), "--out", str(landing)], environment))
    land = measured("land", [crm_kpis, "land", "--landing", str(landing), "--warehouse", str(warehouse)], environment)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        result.rows_landed = connection.execute("select sum(rows_landed) from raw._landed_files").fetchone()[0]
    land.note = f"{result.rows_landed:,} rows, {result.rows_landed / land.seconds:,.0f} rows/s"
    result.steps.append(land)
    # as a refresh builds: the marts' generic tests are left to the gate, which runs next (LEFT_TO_THE_GATE)
    result.steps.append(measured("dbt build (full)", dbt_command(work, "build", *LEFT_TO_THE_GATE), environment,
                                 "all models, and the tests the gate does not check"))
    result.node_seconds["full"] = node_seconds(work)
    # the gate reads the manifest of the build just made; both run again after the nightly build
    gate = [python, "-m", "bench.steps", "gate", str(warehouse), str(serving), str(work / "quality"), str(work / "target" / "manual" / "manifest.json")]
    publish = [python, "-m", "bench.steps", "publish", str(warehouse), str(serving)]
    result.steps.append(measured("quality gate", gate, environment))
    result.steps.append(measured("publish", publish, environment))
    # the warehouse is put back as it was after: a full refresh of some models in it would hand the nightly build
    # upstream rows rebuilt after their downstream models (built_at), which it then rightly rebuilds, and that is no
    # real night. It runs on the warehouse's own path all the same: another path is another dbt var, which makes dbt
    # parse the whole project again (here and in the nightly build after), as no user's steady state does
    kept = work / "warehouse_before_core_subset.duckdb"
    shutil.copyfile(warehouse, kept)
    result.steps.append(measured("pipeline: core KPI subset", dbt_command(work, "run", "--full-refresh", "--select", *CORE_MODELS),
                                 environment, "dbt run of the models the 4 core KPIs need"))
    os.replace(kept, warehouse)
    reference_step = measured("reference: core KPI subset (SQL)",
                              [python, "-m", "bench.core_kpis_reference", str(warehouse), str(work / "reference")], environment)
    result.reference_seconds = sum(json.loads((work / "reference" / "seconds.json").read_text()).values())
    reference_step.note = f"{result.reference_seconds:.1f} s in the 4 queries"
    result.steps.append(reference_step)
    pandas_step = measured("naive pandas: core KPI subset", [python, "-m", "bench.core_kpis_pandas", str(landing),
                                                             str(PROJECT_DIR / "seeds" / "fx_rates.csv"),
                                                             str(PROJECT_DIR / "seeds" / "opportunity_stages.csv"), str(work / "pandas")], environment)
    result.pandas_seconds = pandas_step.seconds
    result.steps.append(pandas_step)
    result.disagreements = compare_core_kpis(warehouse, work / "reference", work / "pandas")
    result.consistent = not any(result.disagreements.values())
    print(f"  core KPIs agree (marts = reference = pandas): {result.consistent} {result.disagreements}", flush=True)
    result.steps.append(measured("nightly changes (1 %)",
                                 [python, "-m", "bench.steps", "changes", str(warehouse), str(landing), str(NIGHTLY_SHARE)], environment))
    result.steps.append(measured("land (nightly)", [crm_kpis, "land", "--landing", str(landing), "--warehouse", str(warehouse)], environment))
    # as a refresh builds: its data tests read what changed since the last publish (VALIDATED_THROUGH_VARIABLE)
    nightly_environment = {**environment, VALIDATED_THROUGH_VARIABLE: validated_through(serving / SERVING_FILE_NAME) or ""}
    result.steps.append(measured("dbt build (nightly, incremental)", dbt_command(work, "build", *LEFT_TO_THE_GATE), nightly_environment,
                                 "after 1 % new and changed rows"))
    result.node_seconds["nightly"] = node_seconds(work)
    result.steps.append(measured("quality gate (nightly)", gate, environment))
    result.steps.append(measured("publish (nightly)", [*publish, str(work / "target" / "manual" / "manifest.json")], environment,
                                 "the rows built since, into a copy of the last serving file"))
    (work / "result.json").write_text(json.dumps(asdict(result), indent=2))
    if not keep:
        shutil.rmtree(landing, ignore_errors=True)
    return result


def exponent(results: list[SizeResult], step: str) -> float | None:
    points = [(math.log(result.opportunities), math.log(result.step(step).seconds)) for result in results if result.step(step).seconds > 0]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)


def machine() -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def markdown(results: list[SizeResult], command: str, engines: list[str] | None = None) -> str:
    lines = ["# Benchmarks", "",
             f"Measured {datetime.now():%Y-%m-%d %H:%M} on {machine()}, with:", "", f"    {command}", "",
             "Every step runs in its own process; `peak MiB` is that process's peak resident memory "
             "(`/usr/bin/time`). Synthetic CRM from `crm-kpis generate` (about 5 history rows and 5 activities "
             "per opportunity), as of 2026-06-30.", ""]
    for result in results:
        lines += [f"## {result.opportunities:,} opportunities ({result.rows_landed:,} landed rows)", "",
                  "| step | seconds | peak MiB | note |", "|---|---:|---:|---|"]
        lines += [f"| {step.name} | {step.seconds:.1f} | {step.peak_mib:,.0f} | {step.note} |" for step in result.steps]
        full = result.step("dbt build (full)").seconds
        core = result.step("pipeline: core KPI subset").seconds
        nightly = result.step("dbt build (nightly, incremental)").seconds
        names = {step.name for step in result.steps}
        pipeline_peak = max(step.peak_mib for step in result.steps if step.name in PIPELINE_STEPS) / 1024
        rows = [
            ("nightly incremental dbt build / full build", f"{nightly:.1f} s / {full:.1f} s = **{nightly / full:.0%}**", "≤ 10 %"),
        ]
        if set(NIGHTLY_REFRESH_STEPS) <= names:
            nightly_refresh = sum(result.step(name).seconds for name in NIGHTLY_REFRESH_STEPS)
            full_refresh = sum(result.step(name).seconds for name in FULL_REFRESH_STEPS)
            rows.append(("nightly refresh end to end (land + build + gate + publish) / full refresh",
                         f"{nightly_refresh:.1f} s / {full_refresh:.1f} s = **{nightly_refresh / full_refresh:.0%}**", "≤ 15 %"))
        land = result.step("land")
        rows += [
            ("core KPI subset through the pipeline / one-pass reference SQL",
             f"{core:.1f} s / {result.reference_seconds:.1f} s = **{core / result.reference_seconds:.1f}×**", "≤ 1.5×"),
            ("naive pandas / pipeline, core subset", f"{result.pandas_seconds:.1f} s / {core:.1f} s = **{result.pandas_seconds / core:.2f}**", "≥ 1.5"),
            ("landing throughput", f"**{result.rows_landed / land.seconds / 1e6:.2f}M rows/s**", "≥ 1M rows/s"),
            ("peak RSS of every pipeline step", f"**{pipeline_peak:.1f} GiB**", "≤ 6 GiB"),
            ("core KPIs identical in the marts, the reference and pandas",
             f"**{'yes' if result.consistent else 'NO'}** {'' if result.consistent else result.disagreements}", "yes"),
        ]
        lines += ["", "| measure | measured | target |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows),
                  "", "(The test-data generator and the pandas baseline are not pipeline steps.)", ""]
        if result.node_seconds:
            lines += per_node_table(result.node_seconds)
    if engines:
        lines += ["## DuckDB, Postgres and Spark: the same full build", "",
                  "`python -m bench.engines` (docs/scaling_out.md): the raw tables copied onto each engine, the whole "
                  "`dbt build` there (every model, data test and unit test), every mart read back and compared with "
                  "DuckDB's; Postgres a local server, Spark in-process (local[*]).", "", *engines, ""]
    if len(results) > 1:
        lines += ["## Growth", "", "Exponent k of time ∝ size^k (least squares over the sizes; 1 = linear):", ""]
        for step in ("land", "dbt build (full)", "quality gate", "pipeline: core KPI subset", "dbt build (nightly, incremental)"):
            value = exponent(results, step)
            lines.append(f"- {step}: {value:.2f}" if value is not None else f"- {step}: n/a")
        lines.append("")
    return "\n".join(lines)


def per_node_table(seconds: dict[str, dict[str, float]], rows: int = 15) -> list[str]:
    """The slowest dbt nodes of the nightly build beside their time in the full build."""
    full, nightly = seconds.get("full", {}), seconds.get("nightly", {})
    lines = ["Slowest parts of the nightly build (dbt's own timing per node; the rest of a build's wall time is "
             "dbt's start-up, parsing and scheduling):", "", "| model, seed or tests | nightly s | full s |", "|---|---:|---:|"]
    for name, value in list(nightly.items())[:rows]:
        lines.append(f"| {name} | {value:.1f} | {full.get(name, 0.0):.1f} |")
    lines += [f"| all nodes | {sum(nightly.values()):.1f} | {sum(full.values()):.1f} |", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000], help="opportunities per run")
    parser.add_argument("--work", type=Path, default=PROJECT_DIR / "data" / "bench", help="scratch folder (large)")
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "docs" / "benchmarks.md", help="the report to write")
    parser.add_argument("--keep", action="store_true", help="keep the generated landing files")
    parser.add_argument("--reuse-landing", action="store_true", help="reuse landing files kept by an earlier --keep run of a size")
    parser.add_argument("--engines-at", type=int, default=None, metavar="OPPORTUNITIES",
                        help="also build this many opportunities on DuckDB, Postgres and Spark side by side (bench.engines)")
    parser.add_argument("--report-only", type=Path, help="rewrite the report from a results JSON of an earlier run")
    arguments = parser.parse_args(argv)
    engines: list[str] = []
    if arguments.report_only:
        raw_results = json.loads(arguments.report_only.read_text())
        if isinstance(raw_results, dict):  # since the engines' table: {"sizes": [...], "engines": [...]}
            engines, raw_results = raw_results.get("engines", []), raw_results["sizes"]
        results = [SizeResult(**{**raw, "steps": [Step(**step) for step in raw["steps"]]}) for raw in raw_results]
    else:
        results = [run_size(size, arguments.work, arguments.keep, arguments.reuse_landing) for size in arguments.sizes]
        if arguments.engines_at:
            from bench.engines import compare_engines

            engines_work = arguments.work / f"engines_{arguments.engines_at}"
            shutil.rmtree(engines_work, ignore_errors=True)
            engines = compare_engines(arguments.engines_at, list(ENGINES), engines_work)
            shutil.rmtree(engines_work, ignore_errors=True)
            print("\n".join(engines))
    sizes = [result.opportunities for result in results]
    command = "make bench" if sizes == [100_000, 1_000_000, 10_000_000] and arguments.engines_at == 100_000 else \
        "python -m bench.run --sizes " + " ".join(str(size) for size in sizes) + \
        (f" --engines-at {arguments.engines_at}" if arguments.engines_at else "")
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    analysis = ""
    if arguments.output.exists() and ANALYSIS_MARKER in arguments.output.read_text():
        # the hand-written reading of the figures survives a re-run; update it when the figures move
        analysis = "\n" + ANALYSIS_MARKER + arguments.output.read_text().split(ANALYSIS_MARKER, 1)[1]
    arguments.output.write_text(markdown(results, command, engines) + analysis)
    (arguments.output.with_suffix(".json")).write_text(
        json.dumps({"sizes": [asdict(result) for result in results], "engines": engines}, indent=2))
    print(f"\nwrote {arguments.output}")
    return 0 if all(result.consistent for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The dashboard in a real browser (Debian's headless Chromium through Playwright), on the insights
hand-made CRM (tests/fixtures/insights_hand_made; its deals and their arithmetic are in
tests/test_insights_hand_made.py): published like a refresh publishes, written by `crm-kpis dashboard`,
opened from disk with the network closed. The figures shown are asserted against hand-computed values
and against the same roll-up in SQL over the serving file; filters change them; nothing is logged to
the console and nothing is fetched. Screenshots go to test-artifacts/dashboard/ (paths printed)."""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main as crm_kpis
from orchestration.dbt.runner import run_dbt
from orchestration.landing import land_directory
from orchestration.serving.publish import publish, serving_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "insights_hand_made"
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium as root in a closed network: no sandbox, no GPU, nothing that phones home
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUCKETS = {"weekly_activity_buckets": [0, 0.5, 1], "deal_activity_buckets": [0, 2, 4]}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dashboard")
    warehouse = root / "warehouse.duckdb"
    land_directory(FIXTURE, warehouse)
    result = run_dbt(["build"], warehouse, quiet=True, as_of=date(2025, 6, 30), variables=BUCKETS)
    assert result.returncode == 0, result.stdout[-3000:]
    publish(warehouse, root / "serving", "browser-test", [])
    out = root / "dashboard"
    assert crm_kpis(["dashboard", "--serving", str(serving_file(root / "serving")), "--out", str(out)]) == 0
    return {"serving": serving_file(root / "serving"), "page": out / "index.html"}


class Session:
    """One page of the dashboard with everything the browser logged and fetched."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))

    def renders(self) -> int:
        return int(self.page.evaluate("Number(document.body.dataset.rendered || 0)"))

    def apply(self, **filters: str) -> None:
        """Set filters in the page's order (a team resets the rep list) and wait for each re-render."""
        for name in ("from", "to", "team", "rep", "segment"):
            if name in filters:
                before = self.renders()
                self.page.select_option(f"#filter-{name}", filters[name])
                self.page.wait_for_function(f"Number(document.body.dataset.rendered) > {before}")

    def tile(self, name: str) -> float | None:
        value = self.page.get_attribute(f"[data-testid=tile-{name}]", "data-value")
        return None if value in (None, "") else float(value)

    def tile_text(self, name: str) -> str:
        return self.page.inner_text(f"[data-testid=tile-{name}] .value")

    def table(self, name: str) -> list[list[str]]:
        return self.page.eval_on_selector(f"table[data-testid={name}]",
            "table => [...table.tBodies[0].rows].map(row => [...row.cells].map(cell => cell.textContent))")

    def trend(self, name: str) -> tuple[list[str], list[float | None]]:
        data = self.page.evaluate(f"document.querySelector('[data-testid=trend-{name}]').data[0]")
        return [x[:10] for x in data["x"]], data["y"]

    def screenshot(self, name: str, capsys) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        with capsys.disabled():
            print(f"\n  screenshot: {path}")
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/install_system_packages.sh)")
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def session(browser, published) -> Iterator[Session]:
    page = browser.new_page()
    opened = Session(page)
    page.goto(published["page"].as_uri())
    page.wait_for_function("Number(document.body.dataset.rendered) >= 1", timeout=600_000)
    yield opened
    page.close()


def sql(serving: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as connection:
        return connection.execute(query).fetchall()


def close(a: float | None, b: float | None, tolerance: float = 1e-6) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=tolerance))


def test_the_page_opens_offline_with_no_console_errors(session, capsys):
    session.screenshot("01-default", capsys)
    assert session.console == [], session.console
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in session.requests), session.requests
    # one file: the chart library and the data are inline, no script or style is loaded from anywhere
    assert session.page.evaluate("document.querySelectorAll('script[src], link[href]').length") == 0
    assert session.page.evaluate("typeof Plotly.react") == "function"
    # Plotly drew every trend: one chart per KPI of the spec
    assert session.page.locator("[data-testid^=trend-] .main-svg").count() >= 16


def test_overview_tiles_show_the_hand_made_figures(session):
    # every month of data (January-June 2025) is in the default period (the last 12 months)
    # closed: D1, D3, D6, D8 won (10000 + 8000 + 3000 + 4000), D2, D4, D5, D7 lost
    assert session.tile("win-rate") == 0.5 and session.tile_text("win-rate") == "50.0 %"
    assert session.tile("bookings") == 25000 and session.tile_text("bookings") == "25,000 EUR"
    assert session.tile("deal-size") == 6250
    assert session.tile("sales-cycle") == (30 + 35 + 20 + 60) / 4
    # 7 January leads, 3 converted; 21 completed activities (X07 deleted, X18 not completed)
    assert close(session.tile("lead-conversion"), 3 / 7) and session.tile_text("lead-conversion") == "42.9 %"
    assert session.tile("activities") == 21
    # open on 06-30: D9 12000 (Proposal), D10 7000 (Prospecting), D11 5000 (Proposal); weighted 7200 + 700 + 3000
    assert session.tile("pipeline-now") == 24000
    assert "weighted 10,900 EUR on 2025-06-30" in session.page.inner_text("[data-testid=tile-pipeline-now]")
    assert close(session.tile("calibrated-now"), 12000 * 10 / 17 + 7000 * 5 / 18 + 5000 * 10 / 17, 1e-5)
    # stalled: D9 (109 days in Proposal against 32.5) and D10 (28 in Prospecting against 12.5)
    assert session.tile("stalled") == 2 and "19,000 EUR" in session.page.inner_text("[data-testid=tile-stalled]")
    # forecast accuracy over the months with a forecast: (9000 + 5100 + 0 + 9400 + 7200) against (10000 + 8000 + 3000 + 0 + 4000)
    assert close(session.tile("forecast-accuracy"), 1 - 5700 / 25000)
    # MRR at the end of June: A1 1000 + A3 800 + A5 2500
    assert session.tile("mrr") == 4300


def test_figures_equal_the_marts_rolled_up_by_their_parts(session, published):
    serving = published["serving"]
    (won, closed, bookings), = sql(serving, "select sum(won_count), sum(won_count + lost_count), sum(won_amount) from marts.fct_kpi_win_rate")
    assert session.tile("win-rate") == won / closed and close(session.tile("bookings"), float(bookings))
    (cycle,), = sql(serving, "select sum(won_cycle_days_sum) / sum(won_count) from marts.fct_kpi_sales_cycle")
    assert close(session.tile("sales-cycle"), cycle)
    (calibrated,), = sql(serving, """select sum(calibrated_weighted_amount) from marts.fct_insight_calibrated_pipeline
        where snapshot_date = (select max(snapshot_date) from marts.fct_insight_calibrated_pipeline)""")
    assert close(session.tile("calibrated-now"), float(calibrated))
    # every point of every monthly win-rate and pipeline-created trend
    months, rates = session.trend("win-rate")
    expected = sql(serving, """select strftime(period_month, '%Y-%m-%d'), sum(won_count) / sum(won_count + lost_count)
        from marts.fct_kpi_win_rate group by 1 order by 1""")
    assert months == [month for month, _ in expected] and all(close(a, b) for a, (_, b) in zip(rates, expected))
    months, created = session.trend("pipeline-created")
    expected = sql(serving, "select strftime(period_month, '%Y-%m-%d'), sum(created_amount) from marts.fct_kpi_pipeline_created group by 1 order by 1")
    assert months == [m for m, _ in expected] and all(close(a, float(b)) for a, (_, b) in zip(created, expected))
    # the backtest table's company quarter is the mart's parts summed, then divided
    (default, calibrated_q2, actual), = sql(serving, """select sum(default_forecast), sum(calibrated_forecast), sum(actual_amount)
        from marts.fct_insight_forecast_backtest where period_grain = 'quarter' and period_start = '2025-04-01'""")
    q2 = session.page.eval_on_selector("table[data-testid=backtest-table]",
        "t => [...t.tBodies[0].rows].find(r => r.cells[0].textContent === '2025-04').cells[4].dataset.value")
    assert close(float(q2), abs(float(default) - float(actual)) / float(actual))
    assert session.table("backtest-table") == [
        ["2025-01", "n/a", "n/a", "18,000 EUR", "n/a", "n/a", "n/a", "n/a"],
        ["2025-04", "7,200 EUR", "7,385 EUR", "7,000 EUR", "2.9 %", "5.5 %", "2.9 %", "5.5 %"],
    ]
    assert float(calibrated_q2) == pytest.approx(12000 * 8 / 13, abs=1e-5)


def test_filters_change_the_figures(session, capsys):
    # a rep in a period: U1 closed only D5 (lost) in April-June
    session.apply(**{"from": "2025-04-01", "to": "2025-06-01"})
    assert session.tile("win-rate") == 0.5 and session.tile("bookings") == 7000  # D6 3000 + D8 4000
    session.apply(team="North")
    assert session.tile("bookings") == 3000 and session.tile("activities") == 2 + 5  # U1 April, U2 April
    session.apply(rep="U1")
    assert session.tile("win-rate") == 0.0 and session.tile("bookings") == 0 and session.tile("activities") == 2
    assert session.tile("stalled") == 1  # D9, whatever the period: stalled is as of the build date
    session.screenshot("02-rep-U1-april-june", capsys)
    # a segment: SMB won D6 and D8 in the period, U1 has none; over all reps it is 2 of 2
    session.apply(team="", segment="SMB")
    assert session.page.input_value("#filter-rep") == ""
    assert session.tile("win-rate") == 1.0 and session.tile("bookings") == 7000
    # the lead-source view cannot be cut by segment, and says so
    assert "not cut by segment" in session.page.inner_text("#insight-lead-source")
    # stage probabilities by segment when one is chosen: SMB deals that sat in Prospecting, 2 won of 4
    assert session.table("probability-table")[0][:3] == ["Prospecting", "4", "2"]
    session.screenshot("03-segment-SMB", capsys)
    assert session.console == [], session.console


def test_leaderboard_funnel_and_stalled_deals(session):
    # completed activities, all months: U1 3 + 2 + 1 + 2 = 8, U3 2 + 1 + 3 + 1 = 7, U2 1 + 5 = 6
    board = session.table("leaderboard")
    assert [row[:4] for row in board] == [["1", "Ulla One", "North", "8"], ["2", "Ulf Three", "South", "7"], ["3", "Uffe Two", "North", "6"]]
    assert [row[8:] for row in board] == [["1", "10,000 EUR"], ["2", "12,000 EUR"], ["1", "3,000 EUR"]]
    # funnel of the deals created January-June: all 11 reached Prospecting, 9 Proposal (D4, D10 never), 4 won
    funnel = {row[0]: row for row in session.table("funnel-table")}
    assert funnel["Prospecting"][1] == "11" and funnel["Proposal"][1] == "9" and funnel["Closed Won"][1] == "4"
    assert funnel["Prospecting"][3] == "36.4 %"
    stalled = session.table("stalled-table")
    assert [row[0] for row in stalled] == ["Alpha renewal", "Beta services"]
    assert stalled[0] == ["Alpha renewal", "Ulla One", "Proposal", "109", "32.50", "76.50", "15", "12,000 EUR"]
    assert {row[0]: row[1:3] for row in session.table("stalled-summary")} == {"Prospecting": ["1", "1"], "Proposal": ["2", "1"]}
    session.apply(team="South")
    assert session.table("stalled-table") == [] and session.tile("stalled") == 0


def test_insight_views_show_the_hand_made_figures(session, capsys):
    session.page.locator("#insights").scroll_into_view_if_needed()
    # 1. deals worked more closed more: 0-1 activities 0 of 3, 2-3 2 of 3, 4+ 2 of 2
    deal = {row[0]: row[1:4] for row in session.table("deal-intensity-table")}
    assert deal == {"0-1": ["3", "0", "0.0 %"], "2-3": ["3", "2", "66.7 %"], "4+": ["2", "2", "100.0 %"]}
    assert session.table("deal-intensity-table")[1][4:6] == ["20.8 %", "93.9 %"]  # Wilson of 2 of 3
    # 4. multi-product 13000 / 2 against single 12000 / 2
    bundle = {row[0]: row[3] for row in session.table("bundle-table")}
    assert bundle == {"multi_product": "6,500 EUR", "no_line_items": "n/a", "single_product": "6,000 EUR"}
    # 5. Q2 retention by Q1 cadence
    cadence = {row[0]: row[1:4] for row in session.table("cadence-table")}
    assert cadence == {"no_contact": ["1", "0", "0.0 %"], "touches_only": ["1", "0", "0.0 %"],
                       "quarterly_check_in": ["2", "2", "100.0 %"], "monthly_check_in": ["1", "1", "100.0 %"]}
    # 6. the last quarter's movers, biggest change first: Software fell from 2 of 2 to 0 of 2 (z = -2)
    movers = session.table("movers-table")
    assert movers[0][:2] == ["industry", "Retail"] and movers[1] == ["industry", "Software", "2", "0.0 %", "2", "100.0 %", "-100.0 pts", "-2.00"]
    # 7. webinar 2 of 3 against outbound 1 of 4, with intervals
    sources = {row[0]: row[1:6] for row in session.table("lead-source-table")}
    assert sources == {"webinar": ["3", "2", "66.7 %", "20.8 %", "93.9 %"], "outbound": ["4", "1", "25.0 %", "4.6 %", "69.9 %"]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    session.page.locator("#insights").screenshot(path=str(ARTIFACTS / "04-insights.png"))
    with capsys.disabled():
        print(f"\n  screenshot: {ARTIFACTS / '04-insights.png'}")
    session.apply(rep="U1")
    assert {row[0]: row[1:3] for row in session.table("lead-source-table")} == {"webinar": ["2", "1"]}
    assert session.console == [], session.console

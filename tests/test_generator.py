"""The synthetic CRM: deterministic, realistic in shape, and consistent with its own history."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.generator import GeneratorSettings, generate_landing
from orchestration.generator.writer import EXTENSION
from orchestration.landing import land_directory

AS_OF = date(2026, 6, 30)
SIZE = 3000


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean_landing(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean") / "landing"
    generate_landing(GeneratorSettings(SIZE, 7, AS_OF), folder, "parquet")
    return folder


@pytest.fixture(scope="module")
def crm(clean_landing) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for table in [p.name for p in clean_landing.iterdir()]:
        connection.execute(f"create view {table} as select * from read_parquet('{clean_landing / table}/*.parquet')")
    return connection


def one(connection: duckdb.DuckDBPyConnection, sql: str):
    return connection.execute(sql).fetchone()[0]


@pytest.mark.parametrize("file_format", ["parquet", "csv-nordic", "jsonl"])
def test_same_seed_gives_identical_files(tmp_path, file_format):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_landing(GeneratorSettings(800, 11, AS_OF, messy=True), first, file_format)
    generate_landing(GeneratorSettings(800, 11, AS_OF, messy=True), second, file_format)
    generate_landing(GeneratorSettings(800, 12, AS_OF, messy=True), other, file_format)
    assert _digests(first) == _digests(second)
    opportunities_file = f"opportunities/part-0.{EXTENSION[file_format]}"
    assert _digests(first)[opportunities_file] != _digests(other)[opportunities_file]


def test_every_contract_table_is_written(clean_landing):
    assert sorted(p.name for p in clean_landing.iterdir()) == sorted([
        "users", "accounts", "leads", "opportunities", "opportunity_history", "products", "opportunity_line_items",
        "activities", "quotas", "subscriptions", "acquisition_spend", "forecast_submissions",
    ])


def test_history_is_ordered_and_ends_in_the_current_state(crm):
    assert one(crm, "select count(*) - count(distinct (opportunity_id, changed_at)) from opportunity_history") == 0
    mismatches = one(crm, """
        with last_change as (
            select * from opportunity_history qualify row_number() over (partition by opportunity_id order by changed_at desc) = 1
        )
        select count(*) from opportunities o join last_change h using (opportunity_id)
        where h.stage <> o.stage or h.amount <> o.amount or h.expected_close_date <> o.expected_close_date
           or h.probability is distinct from o.probability or h.forecast_category <> o.forecast_category
           or h.changed_at <> o.updated_at""")
    assert mismatches == 0
    assert one(crm, "select count(distinct opportunity_id) from opportunity_history") == SIZE
    # the first change is the creation
    assert one(crm, """select count(*) from opportunities o join (select opportunity_id, min(changed_at) as first from opportunity_history group by 1) h
                       using (opportunity_id) where h.first <> o.created_at""") == 0
    assert one(crm, "select max(changed_at) from opportunity_history") <= one(crm, f"select timestamp '{AS_OF}'")


def test_history_has_skips_regressions_and_amount_and_close_date_changes(crm):
    stage_order = "case stage when 'Prospecting' then 1 when 'Qualification' then 2 when 'Discovery' then 3 when 'Proposal' then 4 when 'Negotiation' then 5 end"
    moves = f"""select opportunity_id, {stage_order} as k, lag({stage_order}) over (partition by opportunity_id order by changed_at) as previous_k,
                amount, lag(amount) over (partition by opportunity_id order by changed_at) as previous_amount,
                expected_close_date, lag(expected_close_date) over (partition by opportunity_id order by changed_at) as previous_close
                from opportunity_history"""
    assert one(crm, f"select count(*) from ({moves}) where k > previous_k + 1") > 0, "skipped stages"
    assert one(crm, f"select count(*) from ({moves}) where k < previous_k") > 0, "regressions"
    assert one(crm, f"select count(*) from ({moves}) where k = previous_k and amount <> previous_amount") > 0, "pure amount changes"
    assert one(crm, f"select count(*) from ({moves}) where expected_close_date <> previous_close") > 0, "close date moves"


def test_deals_are_consistent(crm):
    assert one(crm, "select count(*) from opportunities where is_won and closed_at <= created_at") == 0
    assert one(crm, "select count(*) from opportunities where is_closed <> (closed_at is not null)") == 0
    assert one(crm, "select count(*) from opportunities where (stage = 'Closed Won') <> is_won or (stage like 'Closed%') <> is_closed") == 0
    assert one(crm, "select count(*) from opportunities where amount <= 0") == 0
    assert one(crm, "select count(*) from opportunities o anti join accounts a using (account_id)") == 0
    assert one(crm, "select count(*) from opportunities o anti join users u on u.user_id = o.owner_id") == 0
    assert one(crm, "select count(*) from activities a anti join opportunities o using (opportunity_id)") == 0
    assert one(crm, "select sorted from (select list_sort(list(distinct currency)) as sorted from opportunities)") == ["DKK", "EUR", "NOK", "SEK", "USD"]
    # line items add up to the deal amount
    assert one(crm, """select count(*) from opportunities o join (select opportunity_id, sum(total_price) as total from opportunity_line_items group by 1) li
                       using (opportunity_id) where li.total <> o.amount""") == 0


def test_outcomes_differ_by_segment_channel_and_rep(crm):
    by_segment = dict(crm.execute("""select a.segment, avg(o.is_won::int) from opportunities o join accounts a using (account_id)
                                     where o.is_closed group by 1""").fetchall())
    assert by_segment["SMB"] > by_segment["Enterprise"]
    by_channel = dict(crm.execute("""select l.source, avg(o.is_won::int) from opportunities o join leads l using (lead_id)
                                     where o.is_closed group by 1""").fetchall())
    assert by_channel["referral"] > by_channel["outbound"]
    conversion = dict(crm.execute("select source, avg((converted_at is not null)::int) from leads group by 1").fetchall())
    assert conversion["referral"] > 0.25 and conversion["outbound"] < 0.10
    rep_rates = [row[0] for row in crm.execute("""select avg(is_won::int) from opportunities where is_closed group by owner_id having count(*) > 50""").fetchall()]
    assert max(rep_rates) - min(rep_rates) > 0.1
    # won deals get more activity than lost ones
    per_deal = dict(crm.execute("""select o.is_won, count(a.activity_id) / count(distinct o.opportunity_id) from opportunities o
                                   left join activities a using (opportunity_id) where o.is_closed group by 1""").fetchall())
    assert per_deal[True] > per_deal[False] * 1.5


def test_teams_quotas_subscriptions_spend_and_forecasts(crm):
    assert one(crm, "select count(*) from users u join users m on m.user_id = u.manager_id") == one(crm, "select count(*) from users") - 1
    assert one(crm, "select count(*) from quotas where period_end <> period_start + interval 3 month - interval 1 day") == 0
    kinds = dict(crm.execute("""select case when subscription_id like '%-c' then 'contraction' when subscription_id like '%-r' then 'reactivation'
                                       when end_date is not null then 'ended' else 'running' end, count(*) from subscriptions group by 1""").fetchall())
    assert set(kinds) == {"contraction", "reactivation", "ended", "running"}
    assert one(crm, "select count(distinct channel) from acquisition_spend where cost_type = 'marketing'") == 7
    assert one(crm, "select count(*) from acquisition_spend where cost_type = 'sales' and channel is not null") == 0
    assert one(crm, "select count(*) from forecast_submissions where submitted_at >= period_start") == 0


def test_messy_mode_plants_each_defect_and_landing_keeps_account(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    settings = GeneratorSettings(4000, 5, AS_OF, messy=True)
    generate_landing(settings, landing, "parquet")
    report = land_directory(landing, warehouse)
    assert report.invariant_holds and not report.rejected_files
    with duckdb.connect(str(warehouse), read_only=True) as raw:
        assert one(raw, "select count(*) from raw.opportunities where closed_at < created_at") >= 1
        assert one(raw, "select count(*) from raw.opportunities where amount < 0") >= 1
        assert one(raw, "select count(*) from raw.opportunities where stage = 'Verbal Agreement'") >= 1
        assert one(raw, "select count(*) from raw.opportunities o anti join raw.accounts a using (account_id)") >= 1
        assert one(raw, "select count(*) from raw.activities a anti join raw.users u on u.user_id = a.owner_id") >= 1
        assert one(raw, "select count(*) - count(distinct account_name) from raw.accounts") >= 1
        # bad dates are rejected with their line, exact duplicates collapse onto the same key
        bad = raw.execute("select count(*), min(column_name) from raw._rejects where file_path = 'opportunities/part-2-bad-dates.csv'").fetchone()
        assert bad == (settings.defects_per_kind, "created_at")
        assert one(raw, "select count(*) - count(distinct opportunity_id) from raw.opportunities") == 0
        assert one(raw, "select count(*) from raw.opportunities") == 4000


def test_nordic_csv_lands_the_same_rows_as_parquet(tmp_path):
    tables = {}
    for file_format in ("parquet", "csv-nordic"):
        landing, warehouse = tmp_path / file_format, tmp_path / f"{file_format}.duckdb"
        generate_landing(GeneratorSettings(600, 3, AS_OF), landing, file_format)
        report = land_directory(landing, warehouse)
        assert report.rows_rejected == 0 and not report.rejected_files
        with duckdb.connect(str(warehouse), read_only=True) as raw:
            tables[file_format] = {
                table: raw.execute(f"select * exclude (_source_file, _source_line, _load_id, _loaded_at) from raw.{table} order by all").fetchall()
                for table in ("users", "accounts", "opportunities", "opportunity_history", "subscriptions", "opportunity_line_items")
            }
    assert tables["parquet"] == tables["csv-nordic"]
    assert any("ø" in row[1] or "å" in row[1] or "ä" in row[1] for row in tables["csv-nordic"]["users"])

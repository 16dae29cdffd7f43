"""The refresh under faults, as a user runs it (the real CLI, real processes): one refresh at a time, a
killed refresh takes dbt with it and leaves the published marts as they were, a mis-typed amount never reaches the published marts, a badly named
file never blocks the good ones, and the serving file is read-only, without personal data, and
checked against what was published."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.generator import GeneratorSettings, generate_landing

pytestmark = pytest.mark.seconds(330)

AS_OF = date(2026, 6, 30)
CLI = str(Path(sys.executable).parent / "crm-kpis")
PATIENCE_SECONDS = 600  # how long to wait for a process to reach a state: generous, the machine may be busy


def environment(home: Path, **extra: str) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("CRM_KPIS_", "DAGSTER_HOME"))}
    return {**clean, "CRM_KPIS_HOME": str(home), "CRM_KPIS_AS_OF_DATE": AS_OF.isoformat(), **extra}


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def is_dbt(pid: int) -> bool:
    try:
        return "crm-kpis-dbt" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return False


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def wait_for(condition, what: str):
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def serving(home: Path) -> Path:
    return home / "serving" / "warehouse.duckdb"


def home_warehouse(home: Path) -> Path:
    return home / "warehouse.duckdb"


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def killed_and_rerun(tmp_path_factory):
    """A published refresh; new data lands; the refresh that would publish it is killed with kill -9 (its pid
    only) while dbt builds, a second refresh started while it runs; then the re-run."""
    home = tmp_path_factory.mktemp("trust")
    generate_landing(GeneratorSettings(1200, 3, AS_OF), home / "landing", "parquet")
    published = subprocess.run([CLI, "refresh"], env=environment(home), capture_output=True, text=True)
    assert published.returncode == 0, published.stdout + published.stderr
    published_sha = sha256(serving(home))
    late = home / "landing" / "opportunities" / "late.parquet"
    with duckdb.connect(str(home_warehouse(home)), read_only=True) as connection:
        connection.execute(f"""copy (select * exclude (_source_file, _source_line, _load_id, _loaded_at)
                replace ('O-LATE' as opportunity_id, updated_at + interval 1 second as updated_at)
            from raw.opportunities where is_won order by opportunity_id limit 1) to '{late}' (format parquet)""")
    first = subprocess.Popen([CLI, "refresh"], env=environment(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dbt = wait_for(lambda: next((child for child in children(first.pid) if is_dbt(child)), None), "dbt to start")
    second = subprocess.run([CLI, "refresh"], env=environment(home), capture_output=True, text=True)
    first.kill()  # SIGKILL to the refresh's pid alone, not its process group
    first.communicate()
    wait_for(lambda: not alive(dbt), "the dbt child to die with its parent")
    served_after_kill = sha256(serving(home))
    rerun = subprocess.run([CLI, "refresh"], env=environment(home), capture_output=True, text=True)
    return {"home": home, "second": second, "rerun": rerun, "first_pid": first.pid,
            "published_sha": published_sha, "served_after_kill": served_after_kill}


def test_a_second_refresh_says_one_is_running_in_one_line(killed_and_rerun):
    second = killed_and_rerun["second"]
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith(f"crm-kpis refresh: error: a refresh is already running on {killed_and_rerun['home'] / 'warehouse.duckdb'} "
                               f"(pid {killed_and_rerun['first_pid']}, crm-kpis refresh, since ")
    assert "Traceback" not in second.stderr + second.stdout


def test_a_killed_refresh_leaves_no_dbt_and_the_rerun_publishes(killed_and_rerun):
    home = killed_and_rerun["home"]
    assert killed_and_rerun["served_after_kill"] == killed_and_rerun["published_sha"], "a killed refresh touched the serving file"
    rerun = killed_and_rerun["rerun"]
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert ": published" in rerun.stdout
    assert query(serving(home), "select count(*) from meta.publish_log") == [(2,)]
    assert query(serving(home), "select sum(won_count) from marts.fct_kpi_win_rate") == \
        query(home_warehouse(home), "select sum(won_count) from marts.fct_kpi_win_rate")
    # the build the kill interrupted left nothing half-done for the re-run: the late deal is in, once
    assert query(home_warehouse(home), "select count(*) from intermediate.int_opportunities_enriched where opportunity_id = 'O-LATE'") == [(1,)]
    assert query(home_warehouse(home), "select count(*) from marts.fct_kpi_pipeline_created where owner_id is null") == [(0,)]
    assert not list((home / "serving").glob(".publishing-*")), "leftovers of a killed publish remain"


def test_the_serving_file_is_read_only_and_holds_no_email(killed_and_rerun):
    served = serving(killed_and_rerun["home"])
    assert stat.S_IMODE(served.stat().st_mode) == 0o444
    exports = list((served.parent / "parquet" / "current").glob("*.parquet"))
    assert exports and all(stat.S_IMODE(path.stat().st_mode) == 0o444 for path in exports)
    assert "email" not in [name for (name,) in query(served, "select column_name from information_schema.columns where table_name = 'dim_users'")]
    assert query(served, "select engine, withheld_columns from meta.publish_log") == [("duckdb", '{"dim_users": ["email"]}')] * 2
    # the Parquet export leaves it out too
    assert "email" not in [name for (name, *_) in duckdb.sql(f"describe select * from '{served.parent}/parquet/current/dim_users.parquet'").fetchall()]


def test_a_stale_refresh_is_blocked_says_which_setting_to_change_and_prints_no_stack_frames(killed_and_rerun, tmp_path):
    """Nothing landed for four months before the build date: the freshness check fails the gate, nothing is
    published, and the check says which source is old and which setting moves the build date."""
    home = killed_and_rerun["home"]
    served = sha256(serving(home))
    stale = subprocess.run([CLI, "refresh"], env=environment(home, CRM_KPIS_AS_OF_DATE="2026-10-30"), capture_output=True, text=True)
    assert stale.returncode == 1
    output = stale.stdout + stale.stderr
    assert "Traceback" not in output and "Stack Trace" not in output and 'File "' not in output
    assert stale.stderr.strip().splitlines()[-1] == "crm-kpis refresh: error: the refresh did not publish (see the failed steps and checks above)"
    [freshness] = [line for line in stale.stdout.splitlines() if line.strip().startswith("failed check   freshness")]
    assert "the data is older than 3 days at the build date 2026-10-30" in freshness, freshness
    assert "files opportunities.updated_at" in freshness and "CRM_KPIS_AS_OF_DATE" in freshness, freshness
    assert sha256(serving(home)) == served, "a blocked refresh changed the serving file"


@pytest.fixture(scope="module")
def tampered_then_refreshed(killed_and_rerun):
    """A BI client that opened the serving file without read_only deletes rows; then a Nordic export whose amount
    is written with a decimal point, and an account file whose name is not UTF-8, land beside good files; one
    refresh (serving personal data) takes in both."""
    home = killed_and_rerun["home"]
    with duckdb.connect(str(serving(home))) as connection:  # root ignores the file mode: the checksum must catch it
        deleted = connection.execute("delete from marts.fct_kpi_win_rate where won_count > 0").fetchone()[0]
    landing = home / "landing"
    (landing / "opportunities" / "_options.toml").write_text('decimal_separator = ","\ndelimiter = ";"\n')
    (landing / "opportunities" / "nordic.csv").write_text(
        "opportunity_id;account_id;owner_id;stage;amount;currency;created_at;closed_at;is_closed;is_won;updated_at\n"
        "O-NORDIC-1;{account};{owner};Closed Won;5140.00;EUR;2026-06-01 09:00:00;2026-06-27 09:00:00;true;true;2026-06-29 09:00:00\n"
        "O-NORDIC-2;{account};{owner};Closed Won;1.234,50;EUR;2026-06-01 09:00:00;2026-06-27 09:00:00;true;true;2026-06-29 09:00:00\n"
        .format(**dict(zip(("account", "owner"), query(home_warehouse(home), "select account_id, owner_id from raw.opportunities limit 1")[0]))),
        encoding="cp1252")
    accounts = os.path.join(os.fsencode(landing / "accounts"), b"kunder-\xe6\xf8\xe5.csv")
    with open(accounts, "wb") as handle:
        handle.write("account_id,account_name,industry,segment,country,created_at,updated_at\n"
                     "A-KUNDE,Kunde ÆØÅ A/S,Software,SMB,DK,2026-06-01 09:00:00,2026-06-29 09:00:00\n".encode())
    refreshed = subprocess.run([CLI, "refresh"], env=environment(home, CRM_KPIS_SERVE_PII="1"), capture_output=True, text=True)
    return {"home": home, "deleted": deleted, "refreshed": refreshed}


def test_a_tampered_serving_file_is_reported_and_replaced(tampered_then_refreshed):
    refreshed = tampered_then_refreshed["refreshed"]
    assert tampered_then_refreshed["deleted"] > 0
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    [warning] = [line for line in refreshed.stdout.splitlines() if line.strip().startswith("warning") and "serving_file_intact" in line]
    assert "serving_file_intact: the serving file was changed after publish" in warning
    assert "marts.fct_kpi_win_rate" in warning and "this publish replaced it" in warning
    assert "fct_kpi_average_deal_size" not in warning
    served = serving(tampered_then_refreshed["home"])
    with duckdb.connect(str(home_warehouse(tampered_then_refreshed["home"])), read_only=True) as working:
        expected = working.execute("select count(*) from marts.fct_kpi_win_rate").fetchone()[0]
    assert query(served, "select count(*) from marts.fct_kpi_win_rate") == [(expected,)]


def test_personal_data_is_served_only_when_asked(tampered_then_refreshed):
    served = serving(tampered_then_refreshed["home"])
    columns = [name for (name,) in query(served, "select column_name from information_schema.columns where table_name = 'dim_users'")]
    assert "email" in columns
    assert query(served, "select withheld_columns from meta.publish_log order by published_at desc limit 1") == [("{}",)]


def test_a_mis_typed_amount_never_reaches_the_published_marts(tampered_then_refreshed):
    home = tampered_then_refreshed["home"]
    assert tampered_then_refreshed["refreshed"].returncode == 0, tampered_then_refreshed["refreshed"].stdout + tampered_then_refreshed["refreshed"].stderr
    assert query(home_warehouse(home), "select line, column_name, value, reason from raw._rejects where file_path = 'opportunities/nordic.csv'") == [
        (2, "amount", "5140.00", "written with a decimal point, but the file's decimal separator is ','")]
    assert [(opportunity, float(amount)) for opportunity, amount in query(
        home_warehouse(home), "select opportunity_id, amount from raw.opportunities where opportunity_id like 'O-NORDIC%'")] == [
        ("O-NORDIC-2", 1234.5)]
    # the published bookings grew by the one good deal, exactly: 5140.00 was neither 514,000 nor 5,140
    (latest, previous), = query(serving(home), """
        select max(total_bookings) filter (where rank = 1), max(total_bookings) filter (where rank = 2)
        from (select total_bookings, row_number() over (order by published_at desc) as rank from meta.publish_log)""")
    assert round(latest - previous, 2) == 1234.5


def test_a_badly_named_file_lands_beside_the_good_ones(tampered_then_refreshed):
    home = tampered_then_refreshed["home"]
    assert query(serving(home), "select account_name from marts.dim_accounts where account_id = 'A-KUNDE'") == [("Kunde ÆØÅ A/S",)]
    assert query(home_warehouse(home), "select file_path, status from raw._landed_files where table_name = 'accounts' and file_path like '%kunder%'") == [
        ("accounts/kunder-\\xe6\\xf8\\xe5.csv", "landed")]

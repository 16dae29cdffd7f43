"""Bad input and faults, one case each: what lands (the values), what is rejected (line, column, value,
reason) or which file is refused and why, and that every run accounts for every row:
read = landed + rejected. A wrong number must never land; a bad file must never stop the good ones."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import Warehouse

OPPORTUNITIES = "opportunity_id,account_id,owner_id,stage,amount,currency,probability,created_at,updated_at"
ROW = "{id},A1,U1,Proposal,{amount},EUR,{probability},2026-05-01,{updated}"


def opportunity_rows(*rows: tuple[str, str, str], header: str = OPPORTUNITIES, delimiter: str = ",") -> str:
    """(id, amount, probability) rows of an opportunities file, updated 2026-06-01."""
    lines = [header.replace(",", delimiter)]
    for opportunity_id, amount, probability in rows:
        fields = ROW.split(",")
        values = {"{id}": opportunity_id, "{amount}": amount, "{probability}": probability, "{updated}": "2026-06-01"}
        lines.append(delimiter.join(values.get(value, value) for value in fields))
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    """Files to land, then: the rows of `query`, the rejects (file, line, column, value, reason) and the
    refused files' errors (whole, or their beginning when they end in '...')."""

    files: dict[str, str | bytes]
    query: str
    landed: list[tuple]
    rejects: list[tuple] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


UTF16_ACCOUNTS = "account_id,account_name,created_at,updated_at\nA1,Æblegård ApS,2026-01-01,2026-01-01\n"


def gzipped(text: str) -> bytes:
    return gzip.compress(text.encode())


def zipped(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("accounts.csv", text)
    return buffer.getvalue()


CASES: dict[str, Case] = {
    # a decimal-comma file (set explicitly): point decimals are refused, never read as thousands
    "decimal comma file with point decimals": Case(
        files={
            "opportunities/_options.toml": 'decimal_separator = ","\ndelimiter = ";"\n',
            "opportunities/nordic.csv": opportunity_rows(
                ("O1", "5140.00", "60"), ("O2", "1,234.50", "60"), ("O3", "1.234,50", "60"), ("O4", "5.140", "60"),
                ("O5", "99,5", "12,5"), ("O6", "1 234 567,8", "60"), ("O7", "1.234 567,00", "60"), ("O8", "0,005", "60"),
                delimiter=";"),
        },
        query="select opportunity_id, amount, probability from raw.opportunities order by 1",
        landed=[("O3", Decimal("1234.50"), 60.0), ("O4", Decimal("5140.00"), 60.0), ("O5", Decimal("99.50"), 12.5),
                ("O6", Decimal("1234567.80"), 60.0)],
        rejects=[
            ("opportunities/nordic.csv", 2, "amount", "5140.00", "written with a decimal point, but the file's decimal separator is ','"),
            ("opportunities/nordic.csv", 3, "amount", "1,234.50", "not a number with decimal comma (decimal(18,2))"),
            ("opportunities/nordic.csv", 8, "amount", "1.234 567,00", "not a number with decimal comma (decimal(18,2))"),
            ("opportunities/nordic.csv", 9, "amount", "0,005", "more decimals than the 2 of decimal(18,2): not rounded"),
        ]),
    # a point-decimal file: Danish thousands and extra decimals are refused, never rounded
    "point decimal file with thousands and extra decimals": Case(
        files={"opportunities/us.csv": opportunity_rows(
            ("O1", "1.234", "60"), ("O2", "0.005", "60"), ("O3", "1234.5", "60"), ("O4", '"1,234.50"', "60"),
            ("O5", "1e3", "60"), ("O6", "12345678901234567890", "60"), ("O7", " 42 ", "60"))},
        query="select opportunity_id, amount from raw.opportunities order by 1",
        landed=[("O3", Decimal("1234.50")), ("O7", Decimal("42.00"))],
        rejects=[
            ("opportunities/us.csv", 2, "amount", "1.234",
             "more decimals than the 2 of decimal(18,2): not rounded (a '.' thousands separator needs decimal_separator = ',')"),
            ("opportunities/us.csv", 3, "amount", "0.005",
             "more decimals than the 2 of decimal(18,2): not rounded (a '.' thousands separator needs decimal_separator = ',')"),
            ("opportunities/us.csv", 5, "amount", "1,234.50", "cannot be read as decimal(18,2)"),
            ("opportunities/us.csv", 6, "amount", "1e3", "cannot be read as decimal(18,2)"),
            ("opportunities/us.csv", 7, "amount", "12345678901234567890", "too large for decimal(18,2)"),
        ]),
    "probabilities outside 0-100 and not finite": Case(
        files={"opportunities/p.csv": opportunity_rows(
            ("O1", "10", "NaN"), ("O2", "10", "inf"), ("O3", "10", "-20"), ("O4", "10", "150"), ("O5", "10", "55.5"),
            ("O6", "10", ""), ("O7", "10", "100"))},
        query="select opportunity_id, probability from raw.opportunities order by 1",
        landed=[("O5", 55.5), ("O6", None), ("O7", 100.0)],
        rejects=[
            ("opportunities/p.csv", 2, "probability", "NaN", "not a finite number"),
            ("opportunities/p.csv", 3, "probability", "inf", "not a finite number"),
            ("opportunities/p.csv", 4, "probability", "-20", "outside 0-100"),
            ("opportunities/p.csv", 5, "probability", "150", "outside 0-100"),
        ]),
    "a count with a fraction": Case(
        files={"activities/a.csv": "activity_id,activity_type,occurred_at,owner_id,duration_minutes,updated_at\n"
                                   "X1,call,2026-05-01,U1,1.5,2026-05-01\nX2,call,2026-05-01,U1,30,2026-05-01\n"},
        query="select activity_id, duration_minutes from raw.activities",
        landed=[("X2", 30)],
        rejects=[("activities/a.csv", 2, "duration_minutes", "1.5", "not a whole number")]),
    # an empty updated_at never wins the upsert over a row that has one
    "empty updated_at does not replace": Case(
        files={
            "opportunities/1.csv": opportunity_rows(("O1", "5000", "60")),
            "opportunities/2.csv": OPPORTUNITIES + "\nO1,A1,U1,Proposal,1,EUR,60,2026-05-01,\nO2,A1,U1,Proposal,7,EUR,60,2026-05-01,\n",
        },
        query="select opportunity_id, amount from raw.opportunities order by 1",
        landed=[("O1", Decimal("5000.00")), ("O2", Decimal("7.00"))]),
    "keys trimmed, a key of spaces refused": Case(
        files={"opportunities/k.csv": OPPORTUNITIES + "\n O1 , A1,U1 ,Proposal,10,EUR,60,2026-05-01,2026-06-01\n"
                                      "   ,A1,U1,Proposal,10,EUR,60,2026-05-01,2026-06-01\n"},
        query="select opportunity_id, account_id, owner_id from raw.opportunities",
        landed=[("O1", "A1", "U1")],
        rejects=[("opportunities/k.csv", 3, "opportunity_id", "   ", "key column is empty")]),
    "a file name that is not UTF-8 lands under its escaped name": Case(
        files={b"accounts/kunder-\xe6\xf8\xe5.csv": "account_id,account_name,created_at,updated_at\nA1,Ærø,2026-01-01,2026-01-01\n"},
        query="select account_id, account_name, _source_file from raw.accounts",
        landed=[("A1", "Ærø", "accounts/kunder-\\xe6\\xf8\\xe5.csv")]),
    "a repeated column name refuses the file with DuckDB's words hidden by none": Case(
        files={"opportunities/dup.csv": OPPORTUNITIES + ",amount\n" + ROW.format(id="O1", amount="1", probability="1", updated="2026-06-01") + ",2\n",
               "opportunities/good.csv": opportunity_rows(("O2", "10", "60"))},
        query="select opportunity_id from raw.opportunities",
        landed=[("O2",)],
        refused=["opportunities/dup.csv: column 'amount' appears twice in the header (columns 5 and 10); rename or remove one"]),
    "hidden files: data refused, the rest recorded as ignored": Case(
        files={"opportunities/..csv": opportunity_rows(("O1", "10", "60")), "opportunities/.DS_Store": b"\x00\x01",
               "opportunities/good.csv": opportunity_rows(("O2", "10", "60"))},
        query="select opportunity_id from raw.opportunities",
        landed=[("O2",)],
        refused=["opportunities/..csv: hidden file (its name starts with '.'); not landed: rename it to land it"],
        ignored=["opportunities/.DS_Store: hidden file; not landed"]),
    "a header split by commas over rows split by semicolons": Case(
        files={"opportunities/mixed.csv": OPPORTUNITIES + "\n" + "\n".join(
            ROW.format(id=f"O{i}", amount="10", probability="60", updated="2026-06-01").replace(",", ";") for i in range(10)) + "\n"},
        query="select opportunity_id from raw.opportunities",
        landed=[],
        refused=["opportunities/mixed.csv: none of the 10 data line(s) splits into the header's 9 columns (delimiter ','); "
                 "the rows seem to be split by ';': set delimiter = ';' in _options.toml"]),
    "compressed files: gzip read whatever the name, zip named": Case(
        files={"accounts/a.csv.gz": gzipped(UTF16_ACCOUNTS),
               "accounts/b.csv": gzipped(UTF16_ACCOUNTS.replace("A1", "A2")),
               "accounts/c.csv": zipped(UTF16_ACCOUNTS)},
        query="select account_id, account_name from raw.accounts order by 1",
        landed=[("A1", "Æblegård ApS"), ("A2", "Æblegård ApS")],
        refused=["accounts/c.csv: compressed file (zip); unpack it, or compress it with gzip, before landing"]),
    "UTF-16 with and without a byte-order mark": Case(
        files={"accounts/bom.csv": UTF16_ACCOUNTS.encode("utf-16"),
               "accounts/le.csv": UTF16_ACCOUNTS.replace("A1", "A2").encode("utf-16-le")},
        query="select account_id, account_name from raw.accounts order by 1",
        landed=[("A1", "Æblegård ApS"), ("A2", "Æblegård ApS")]),
    # a quoted value spanning lines, a blank line and a ragged line: every line number is the editor's
    "lines after a multi-line record keep their numbers": Case(
        files={"accounts/notes.csv": 'account_id,account_name,created_at,updated_at\n'
                                     'A1,"Line one\nline two\nline three",2026-01-01,2026-01-01\n'
                                     '\n'
                                     'A2,Plain,not-a-date,2026-01-01\n'
                                     'A3,Ragged,2026-01-01\n'
                                     'A4,Fine,2026-01-01,2026-01-01\n'},
        query="select account_id, _source_line from raw.accounts order by 1",
        landed=[("A1", 2), ("A4", 8)],
        rejects=[("accounts/notes.csv", 6, "created_at", "not-a-date", "cannot be read as timestamp"),
                 ("accounts/notes.csv", 7, "updated_at", "A3,Ragged,2026-01-01", "MISSING COLUMNS: ...")]),
    "a 10 MB value lands": Case(
        files={"accounts/long.csv": "account_id,account_name,created_at,updated_at\nA1," + "x" * (10 * 1024 * 1024) + ",2026-01-01,2026-01-01\n"},
        query="select account_id, length(account_name) from raw.accounts",
        landed=[("A1", 10 * 1024 * 1024)]),
}


def _write(warehouse: Warehouse, relative: str | bytes, content: str | bytes) -> None:
    path = os.path.join(os.fsencode(warehouse.landing), relative if isinstance(relative, bytes) else relative.encode())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content if isinstance(content, bytes) else content.encode())


def _matches(actual: str | None, expected: str) -> bool:
    return actual is not None and (actual.startswith(expected[:-3]) if expected.endswith("...") else actual == expected)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input(warehouse: Warehouse, case: Case) -> None:
    for relative, content in case.files.items():
        _write(warehouse, relative, content)
    report = warehouse.land()

    assert warehouse.query(case.query) == case.landed
    rejects = warehouse.query("select file_path, line, column_name, value, reason from raw._rejects order by file_path, line, column_name")
    assert len(rejects) == len(case.rejects), rejects
    for actual, expected in zip(rejects, case.rejects):
        assert actual[:4] == expected[:4] and _matches(actual[4], expected[4]), (actual, expected)
    refused = sorted(result.error for result in report.files if result.status == "rejected")
    assert len(refused) == len(case.refused) and all(_matches(a, e) for a, e in zip(refused, sorted(case.refused))), refused
    assert sorted(result.error for result in report.files if result.status == "ignored") == sorted(case.ignored)
    # every entry recorded; read = landed + rejected for each file and the run
    recorded = warehouse.query("select file_path, status, rows_read, rows_landed, rows_rejected from raw._landed_files where load_id = ?", [report.load_id])
    assert len(recorded) == len(report.files)
    assert all(read == landed + rejected for _, _, read, landed, rejected in recorded)
    assert warehouse.query("select rows_read = rows_landed + rows_rejected, invariant_holds from raw._load_runs") == [(True, True)]
    assert report.invariant_holds


def test_a_file_refused_for_bad_options_names_the_setting(warehouse: Warehouse) -> None:
    warehouse.write("accounts/_options.toml", 'compression = "bzip2"\n')
    warehouse.write("accounts/a.csv", "account_id,account_name,created_at,updated_at\nA1,x,2026-01-01,2026-01-01\n")
    report = warehouse.land()
    assert report.rejected_files[0].error == "accounts/a.csv: compression 'bzip2' is not supported; use gzip or none"


def test_symbolic_links_out_of_the_landing_folder_are_not_followed(warehouse: Warehouse, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("account_id,account_name,created_at,updated_at\nA9,secret,2026-01-01,2026-01-01\n")
    (warehouse.landing / "accounts").mkdir()
    (warehouse.landing / "accounts" / "passwd.csv").symlink_to("/etc/passwd")
    (warehouse.landing / "accounts" / "secret.csv").symlink_to(outside)
    (warehouse.landing / "opportunities").symlink_to(tmp_path, target_is_directory=True)
    warehouse.write("accounts/real.csv", "account_id,account_name,created_at,updated_at\nA1,x,2026-01-01,2026-01-01\n")
    (warehouse.landing / "accounts" / "again.csv").symlink_to(warehouse.landing / "accounts" / "real.csv")
    report = warehouse.land()
    assert warehouse.query("select account_id from raw.accounts") == [("A1",)]
    outcome = {result.file_path: (result.status, result.error) for result in report.files}
    assert outcome["accounts/passwd.csv"] == ("rejected", "accounts/passwd.csv: symbolic link to /etc/passwd, outside the landing "
                                              "folder; not followed (copy the file into the landing folder to land it)")
    assert outcome["accounts/secret.csv"][0] == "rejected" and "outside the landing folder" in outcome["accounts/secret.csv"][1]
    assert outcome["opportunities"][0] == "rejected" and "links to folders are not followed" in outcome["opportunities"][1]
    # a link to a file inside the landing folder is that file: landed once, then the same checksum
    assert sorted((outcome["accounts/again.csv"][0], outcome["accounts/real.csv"][0])) == ["landed", "skipped"]


CLI = str(Path(sys.executable).parent / "crm-kpis")


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 4 MB tmpfs: a warehouse on it runs out of space while landing."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_stops_the_run_and_claims_nothing(tmp_path: Path, tiny_disk: Path) -> None:
    import duckdb

    from orchestration.generator import GeneratorSettings, generate_landing

    landing = tmp_path / "landing"
    generate_landing(GeneratorSettings(2000, 7, date(2026, 6, 30)), landing, "parquet")
    warehouse = tiny_disk / "warehouse.duckdb"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CRM_KPIS_")}
    result = subprocess.run([CLI, "land", "--landing", str(landing), "--warehouse", str(warehouse)],
                            capture_output=True, text=True, env=environment)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("crm-kpis land: error: ") and "No space left on device" in last and "the run was stopped" in last
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        # what is recorded as landed is on disk, row for row; no run claims success
        for table, rows_landed in connection.execute(
                "select table_name, sum(rows_inserted + rows_updated) from raw._landed_files where status = 'landed' group by 1").fetchall():
            assert connection.execute(f"select count(*) from raw.{table}").fetchone()[0] == rows_landed, table
        assert connection.execute("select count(*) from raw._load_runs").fetchone()[0] == 0
        assert connection.execute("select count(*) from raw.activities").fetchone()[0] == 0

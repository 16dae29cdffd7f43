"""Each landing format and flavour ends in the same typed raw rows."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb

OPPORTUNITY_HEADER = "opportunity_id,account_id,owner_id,stage,amount,currency,probability,expected_close_date,created_at,updated_at,is_won"


def test_csv_comma_utf8_is_typed(warehouse):
    warehouse.write(
        "opportunities/a.csv",
        OPPORTUNITY_HEADER + "\nO1,A1,U1,Proposal,1234.50,EUR,60,2025-04-30,2025-03-31 23:30:00,2025-04-01T08:00:00Z,false\n",
    )
    report = warehouse.land()
    assert report.count("landed") == 1 and report.invariant_holds
    assert warehouse.query(
        "select amount, probability, expected_close_date, created_at, updated_at, is_won from raw.opportunities"
    ) == [(Decimal("1234.50"), 60.0, date(2025, 4, 30), datetime(2025, 3, 31, 23, 30), datetime(2025, 4, 1, 8, 0), False)]


def test_timestamp_with_offset_is_stored_in_utc(warehouse):
    warehouse.write(
        "opportunities/a.csv",
        OPPORTUNITY_HEADER + "\nO1,A1,U1,Proposal,1,EUR,,,2025-04-01 01:30:00+02:00,2025-04-01 00:00:00,\n",
    )
    warehouse.land()
    assert warehouse.query("select created_at from raw.opportunities") == [(datetime(2025, 3, 31, 23, 30),)]


def test_utf8_with_bom_reads_first_column(warehouse):
    warehouse.write("products/p.csv", "\ufeffproduct_id,product_name,product_line,is_recurring\nP1,Kørsel,Services,true\n")
    report = warehouse.land()
    assert report.files[0].status == "landed", report.files[0].error
    assert warehouse.query("select product_id, product_name, is_recurring from raw.products") == [("P1", "Kørsel", True)]


def test_nordic_excel_csv_semicolon_cp1252_decimal_comma(warehouse):
    content = (
        "account_id;account_name;segment;country;created_at;updated_at\n"
        "A1;Søren Ærø ApS;SMB;DK;2025-01-02 10:00:00;2025-01-02 10:00:00\n"
        "A2;Åsa Öberg AB €;SMB;SE;2025-01-03 10:00:00;2025-01-03 10:00:00\n"
    )
    warehouse.write("accounts/nordic.csv", content, encoding="cp1252")
    warehouse.write(
        "subscriptions/nordic.csv",
        "subscription_id;account_id;start_date;mrr_amount;currency;updated_at\nS1;A1;2025-01-01;1.234,50;DKK;2025-01-01\nS2;A2;2025-01-01;99,5;SEK;2025-01-01\n",
        encoding="cp1252",
    )
    report = warehouse.land()
    assert [f.status for f in report.files] == ["landed", "landed"], [f.error for f in report.files]
    assert warehouse.query("select account_name from raw.accounts order by account_id") == [("Søren Ærø ApS",), ("Åsa Öberg AB €",)]
    assert warehouse.query("select mrr_amount from raw.subscriptions order by subscription_id") == [(Decimal("1234.50"),), (Decimal("99.50"),)]
    assert "encoding windows-1252" in " | ".join(report.files[0].assumptions)
    # pure ASCII is valid UTF-8: said so, not guessed silently
    assumptions = " | ".join(report.files[1].assumptions)
    assert "encoding utf-8" in assumptions and "';'" in assumptions and "decimal separator ','" in assumptions
    # what was assumed is also kept with the file
    stored = warehouse.query("select assumptions from raw._landed_files where file_path = 'subscriptions/nordic.csv'")[0][0]
    assert "decimal separator ','" in stored


def test_folder_options_override_detection(warehouse):
    warehouse.write("quotas/_options.toml", 'delimiter = "|"\ndate_format = "%d.%m.%Y"\ndecimal_separator = ","\n')
    warehouse.write("quotas/q.txt", "user_id|period_start|period_end|quota_amount|currency\nU1|01.01.2025|31.03.2025|100000,00|EUR\n")
    report = warehouse.land()
    assert report.files[0].status == "landed", report.files[0].error
    assert report.files[0].assumptions == ["encoding utf-8 (detected: first 8 MiB are valid UTF-8)"]
    assert warehouse.query("select period_start, period_end, quota_amount from raw.quotas") == [
        (date(2025, 1, 1), date(2025, 3, 31), Decimal("100000.00"))
    ]


def test_invalid_options_file_rejects_the_file_by_name(warehouse):
    warehouse.write("quotas/_options.toml", 'delimiter = "|"\nseparator_of_thousands = "."\n')
    warehouse.write("quotas/q.csv", "user_id|period_start|period_end|quota_amount|currency\n")
    report = warehouse.land()
    assert report.files[0].status == "rejected"
    assert report.files[0].error.startswith("quotas/q.csv: options file _options.toml: unknown setting(s) separator_of_thousands")


def test_parquet(warehouse, tmp_path):
    target = warehouse.landing / "users" / "u.parquet"
    target.parent.mkdir()
    duckdb.sql(
        "copy (select 'U1' as user_id, 'Mette Kjær' as full_name, date '2024-01-01' as hired_at, true as is_active, "
        f"timestamp '2025-01-01 00:00:00' as updated_at) to '{target}' (format parquet)"
    )
    report = warehouse.land()
    assert report.files[0].status == "landed" and report.rows_landed == 1
    assert warehouse.query("select user_id, full_name, hired_at, is_active, _source_file, _source_line from raw.users") == [
        ("U1", "Mette Kjær", date(2024, 1, 1), True, "users/u.parquet", 1)
    ]


def test_json_lines_with_an_invalid_line(warehouse):
    lines = [
        json.dumps({"activity_id": "X1", "activity_type": "call", "occurred_at": "2025-01-01T10:00:00", "owner_id": "U1", "updated_at": "2025-01-01T10:00:00", "duration_minutes": 15, "completed": True}),
        "{not json",
        json.dumps({"activity_id": "X2", "activity_type": "email", "occurred_at": "2025-01-02T10:00:00", "owner_id": "U1", "updated_at": "2025-01-02T10:00:00"}),
    ]
    warehouse.write("activities/a.jsonl", "\n".join(lines) + "\n")
    report = warehouse.land()
    assert (report.rows_read, report.rows_landed, report.rows_rejected) == (3, 2, 1)
    assert warehouse.query("select activity_id, duration_minutes, completed from raw.activities order by 1") == [("X1", 15, True), ("X2", None, None)]
    assert warehouse.query("select line, value, reason from raw._rejects") == [(2, "{not json", "not a valid JSON object")]

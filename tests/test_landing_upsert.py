"""Upsert by key keeping the newest version; re-landing is a no-op; soft deletes kept as flags."""

from __future__ import annotations

from decimal import Decimal

HEADER = "opportunity_id,account_id,owner_id,stage,amount,currency,created_at,updated_at,is_deleted"


def test_newer_version_replaces_and_older_is_ignored(warehouse):
    warehouse.write("opportunities/1.csv", HEADER + "\nO1,A1,U1,Discovery,100,EUR,2025-01-01,2025-01-05,false\nO2,A1,U1,Discovery,50,EUR,2025-01-01,2025-01-05,false\n")
    first = warehouse.land()
    assert first.files[0].rows_inserted == 2
    # a later file holding a newer O1, an older O2, a new O3 and a soft-deleted O4
    warehouse.write(
        "opportunities/2.csv",
        HEADER + "\nO1,A1,U1,Proposal,120,EUR,2025-01-01,2025-01-09,false\nO2,A1,U1,Prospecting,10,EUR,2025-01-01,2025-01-02,false\n"
        "O3,A1,U1,Discovery,70,EUR,2025-01-01,2025-01-03,false\nO4,A1,U1,Discovery,70,EUR,2025-01-01,2025-01-03,true\n",
    )
    second = warehouse.land()
    result = second.files[-1]
    assert (result.rows_inserted, result.rows_updated, result.rows_stale) == (2, 1, 1)
    assert warehouse.query("select opportunity_id, stage, amount, is_deleted from raw.opportunities order by 1") == [
        ("O1", "Proposal", Decimal("120.00"), False),
        ("O2", "Discovery", Decimal("50.00"), False),
        ("O3", "Discovery", Decimal("70.00"), False),
        ("O4", "Discovery", Decimal("70.00"), True),
    ]


def test_same_key_twice_in_one_file_keeps_the_latest(warehouse):
    warehouse.write(
        "opportunities/1.csv",
        HEADER + "\nO1,A1,U1,Proposal,2,EUR,2025-01-01,2025-01-09,false\nO1,A1,U1,Discovery,1,EUR,2025-01-01,2025-01-05,false\n",
    )
    report = warehouse.land()
    assert report.files[0].rows_superseded == 1 and report.invariant_holds
    assert warehouse.query("select stage from raw.opportunities") == [("Proposal",)]


def test_relanding_the_same_file_is_a_no_op(warehouse):
    warehouse.write("opportunities/1.csv", HEADER + "\nO1,A1,U1,Proposal,2,EUR,2025-01-01,2025-01-09,false\n")
    warehouse.land()
    before = warehouse.query("select * from raw.opportunities")
    # same content under another name is the same file
    warehouse.write("opportunities/copy-of-1.csv", (warehouse.landing / "opportunities/1.csv").read_text())
    again = warehouse.land()
    assert [result.status for result in again.files] == ["skipped", "skipped"]
    assert warehouse.query("select * from raw.opportunities") == before


def test_tables_without_version_column_take_the_later_file(warehouse):
    header = "user_id,period_start,period_end,quota_amount,currency\n"
    warehouse.write("quotas/2025-a.csv", header + "U1,2025-01-01,2025-03-31,100,EUR\n")
    warehouse.write("quotas/2025-b.csv", header + "U1,2025-01-01,2025-03-31,150,EUR\nU2,2025-01-01,2025-03-31,90,EUR\n")
    warehouse.land()
    assert warehouse.query("select user_id, quota_amount from raw.quotas order by 1") == [("U1", Decimal("150.00")), ("U2", Decimal("90.00"))]


def test_nullable_key_part_matches_null(warehouse):
    header = "spend_month,cost_type,channel,amount,currency\n"
    warehouse.write("acquisition_spend/a.csv", header + "2025-01-01,sales,,1000,EUR\n2025-01-01,marketing,webinar,10,EUR\n")
    warehouse.write("acquisition_spend/b.csv", header + "2025-01-01,sales,,1200,EUR\n")
    warehouse.land()
    assert warehouse.query("select cost_type, channel, amount from raw.acquisition_spend order by 1") == [
        ("marketing", "webinar", Decimal("10.00")),
        ("sales", None, Decimal("1200.00")),
    ]

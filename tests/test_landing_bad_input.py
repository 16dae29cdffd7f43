"""Bad input: a clear error naming file, line and column; nothing lost, nothing partial."""

from __future__ import annotations

HEADER = "opportunity_id,account_id,owner_id,stage,amount,currency,created_at,updated_at"


def test_untypeable_values_go_to_rejects_with_file_line_column_value(warehouse):
    warehouse.write(
        "opportunities/o.csv",
        HEADER + "\n"
        "O1,A1,U1,Proposal,100,EUR,2025-01-01,2025-01-02\n"
        "O2,A1,U1,Proposal,abc,EUR,2025-01-01,2025-01-02\n"
        "O3,A1,U1,Proposal,100,EUR,2025-02-30,2025-01-02\n"
        ",A1,U1,Proposal,100,EUR,2025-01-01,2025-01-02\n",
    )
    report = warehouse.land()
    assert (report.rows_read, report.rows_landed, report.rows_rejected) == (4, 1, 3)
    assert warehouse.query("select file_path, line, column_name, value, reason from raw._rejects order by line") == [
        ("opportunities/o.csv", 3, "amount", "abc", "cannot be read as decimal(18,2)"),
        ("opportunities/o.csv", 4, "created_at", "2025-02-30", "cannot be read as timestamp"),
        ("opportunities/o.csv", 5, "opportunity_id", None, "key column is empty"),
    ]
    assert warehouse.query("select opportunity_id from raw.opportunities") == [("O1",)]


def test_ragged_line_is_rejected_and_later_lines_keep_their_numbers(warehouse):
    warehouse.write(
        "opportunities/o.csv",
        HEADER + "\n"
        "O1,A1,U1,Proposal,100,EUR,2025-01-01,2025-01-02\n"
        "O2,A1,U1,Proposal,100,EUR,2025-01-01,2025-01-02,surprise\n"
        "O3,A1,U1,Proposal,100,EUR\n"
        "O4,A1,U1,Proposal,100,EUR,2025-01-01,2025-01-02\n",
    )
    report = warehouse.land()
    assert (report.rows_read, report.rows_landed, report.rows_rejected) == (4, 2, 2)
    # one reject row per problem: the short line misses two columns
    rejects = warehouse.query("select line, column_name, split_part(reason, ':', 1) from raw._rejects order by line, column_name")
    assert rejects == [(3, None, "TOO MANY COLUMNS"), (4, "created_at", "MISSING COLUMNS"), (4, "updated_at", "MISSING COLUMNS")]
    assert warehouse.query("select opportunity_id, _source_line from raw.opportunities order by 1") == [("O1", 2), ("O4", 5)]


def test_missing_required_column_rejects_the_whole_file(warehouse):
    warehouse.write("opportunities/good.csv", HEADER + "\nO1,A1,U1,Proposal,100,EUR,2025-01-01,2025-01-02\n")
    warehouse.write("opportunities/no_amount.csv", "opportunity_id,account_id,owner_id,stage,currency,created_at,updated_at\nO2,A1,U1,Proposal,EUR,2025-01-01,2025-01-02\n")
    report = warehouse.land()
    rejected = report.rejected_files
    assert len(rejected) == 1
    assert rejected[0].error == "opportunities/no_amount.csv: missing required column(s) amount for table opportunities"
    # nothing of the rejected file is landed, the good file is
    assert warehouse.query("select opportunity_id from raw.opportunities") == [("O1",)]
    assert warehouse.query("select status, error from raw._landed_files where file_path = 'opportunities/no_amount.csv'") == [
        ("rejected", rejected[0].error)
    ]


def test_unknown_table_folder_and_loose_file_are_rejected_by_name(warehouse):
    warehouse.write("deals/d.csv", "id\n1\n")
    warehouse.write("loose.csv", "id\n1\n")
    report = warehouse.land()
    errors = sorted(result.error for result in report.rejected_files)
    assert errors[0].startswith("deals/d.csv: unknown table folder 'deals'; expected one of: users, accounts")
    assert errors[1].startswith("loose.csv: files must be in a table folder")


def test_unsupported_file_type_is_rejected(warehouse):
    warehouse.write("users/users.xlsx", b"PK\x03\x04")
    report = warehouse.land()
    assert report.rejected_files[0].error.startswith("users/users.xlsx: unsupported file type '.xlsx'")


def test_every_run_records_its_accounting(warehouse):
    warehouse.write("opportunities/o.csv", HEADER + "\nO1,A1,U1,Proposal,100,EUR,2025-01-01,2025-01-02\nO2,A1,U1,Proposal,x,EUR,2025-01-01,2025-01-02\n")
    report = warehouse.land()
    assert warehouse.query("select rows_read, rows_landed, rows_rejected, invariant_holds from raw._load_runs") == [(2, 1, 1, True)]
    assert report.invariant_holds

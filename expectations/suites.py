"""The Great Expectations suites of the quality gate, built from code on every run (never edited in
GE's stores): the marts' dbt tests translated (expectations/manifest_rules.py) and the gate's own
comparisons against the published version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expectations.manifest_rules import MartTest

if TYPE_CHECKING:  # importing great_expectations costs seconds; callers import it when they validate
    import great_expectations as gx


def found_column(test: MartTest) -> str:
    """For a relationships test: the column of the validated frame that says whether the row's value exists
    in the referenced mart (True, False; NULL where the value is NULL). The gate computes it while reading
    the mart (expectations/gate.py): a value set of every key of a large dimension inside the expectation
    costs GE seconds per validation to copy, and grows with the CRM."""
    return f"{test.column}__found_in_{test.referenced_mart}"


def _expectation(test: MartTest) -> Any:
    import great_expectations.expectations as gxe

    if test.test == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=test.column)
    if test.test == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=test.column)
    if test.test == "unique_combination":
        columns = list(test.arguments["columns"])
        # GE's compound expectation needs two columns; a grain of one is a plain unique column
        if len(columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=columns[0])
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=columns)
    if test.test == "between":
        return gxe.ExpectColumnValuesToBeBetween(column=test.column, min_value=test.arguments.get("min_value"),
                                                 max_value=test.arguments.get("max_value"))
    if test.test == "accepted_values":
        return gxe.ExpectColumnValuesToBeInSet(column=test.column, value_set=list(test.arguments["values"]))
    if test.test == "relationships":
        return gxe.ExpectColumnValuesToBeInSet(column=found_column(test), value_set=[True])
    raise ValueError(f"no expectation for dbt test {test.test}")


def mart_suite(name: str, tests: list[MartTest]) -> gx.ExpectationSuite:
    """One mart's tests as one suite, on a frame holding their columns (and found_column of each relationships test)."""
    import great_expectations as gx

    return gx.ExpectationSuite(name=name, expectations=[_expectation(test) for test in tests])


def cross_kpi_suite() -> gx.ExpectationSuite:
    """On a frame of (test, disagreeing_cells), one row per cross-KPI dbt test: no cell may disagree."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="cross_kpi_consistency", expectations=[
        gxe.ExpectColumnValuesToBeBetween(column="disagreeing_cells", min_value=0, max_value=0)])


def change_suite(name: str, min_ratio: float, max_ratio: float) -> gx.ExpectationSuite:
    """On a frame of (measure, published, now, ratio): every ratio within the configured bounds."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=name, expectations=[
        gxe.ExpectColumnValuesToBeBetween(column="ratio", min_value=min_ratio, max_value=max_ratio),
    ])


def freshness_suite(max_age_days: float) -> gx.ExpectationSuite:
    """On marts.fct_data_freshness: every source's newest data is at most max_age_days old."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="freshness", expectations=[
        gxe.ExpectColumnValuesToNotBeNull(column="newest_change_at"),
        gxe.ExpectColumnValuesToBeBetween(column="age_days", min_value=-1, max_value=max_age_days),
    ])


def intact_suite() -> gx.ExpectationSuite:
    """On a frame of (mart, published, now, intact): every served mart is as it was published."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="serving_file_intact", expectations=[
        gxe.ExpectColumnValuesToBeInSet(column="intact", value_set=[True]),
    ])

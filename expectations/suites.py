"""The expectation suites, built from code on every run (never edited in GE's stores)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.mart_rules import MART_RULES

if TYPE_CHECKING:  # importing great_expectations costs seconds; callers import it when they validate
    import great_expectations as gx


def mart_suite(mart: str, key_values: dict[str, list]) -> "gx.ExpectationSuite":
    """Grain unique, ratios in [0, 1], amounts and counts >= 0, keys present in their dimension.
    `key_values` holds each referenced dimension column's values ("dim_users.user_id": [...])."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    rules = MART_RULES[mart]
    expectations: list = [gxe.ExpectCompoundColumnsToBeUnique(column_list=list(rules.grain))
                          if len(rules.grain) > 1 else gxe.ExpectColumnValuesToBeUnique(column=rules.grain[0])]
    expectations += [gxe.ExpectColumnValuesToNotBeNull(column=column) for column in rules.grain
                     if column not in ("expected_close_quarter",)]
    expectations += [gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1) for column in rules.ratios]
    expectations += [gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0) for column in rules.non_negative]
    expectations += [gxe.ExpectColumnValuesToBeInSet(column=column, value_set=key_values[reference])
                     for column, reference in rules.keys.items()]
    return gx.ExpectationSuite(name=f"mart__{mart}", expectations=expectations)


def consistency_suite() -> "gx.ExpectationSuite":
    """On a frame of cross-KPI differences (one row per compared cell): every difference is zero to the cent."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="cross_kpi_consistency", expectations=[
        gxe.ExpectColumnValuesToBeBetween(column="difference", min_value=-0.005, max_value=0.005),
    ])


def change_suite(name: str, min_ratio: float, max_ratio: float) -> "gx.ExpectationSuite":
    """On a frame of (measure, published, now, ratio): every ratio within the configured bounds."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=name, expectations=[
        gxe.ExpectColumnValuesToBeBetween(column="ratio", min_value=min_ratio, max_value=max_ratio),
    ])


def freshness_suite(max_age_days: float) -> "gx.ExpectationSuite":
    """On a frame of (source, newest, age_days): the newest landed data is at most max_age_days old."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="freshness", expectations=[
        gxe.ExpectColumnValuesToNotBeNull(column="newest"),
        gxe.ExpectColumnValuesToBeBetween(column="age_days", min_value=-1, max_value=max_age_days),
    ])


def intact_suite() -> "gx.ExpectationSuite":
    """On a frame of (mart, published, now, intact): every served mart is as it was published."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name="serving_file_intact", expectations=[
        gxe.ExpectColumnValuesToBeInSet(column="intact", value_set=[True]),
    ])

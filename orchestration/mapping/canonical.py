"""The canonical values some contract columns must carry, read from the project's seeds, so that a
mapping maps its export's own lead sources, stages and activity types itself (`values:`) and nobody
edits the seeds for one export.

A stage outside the funnel would drop the deal from every KPI (counted as unknown_stage), so every
stage value must be one of the funnel. Lead sources and activity types outside the seeds' maps become
`other` in the warehouse, a KPI bucket of its own: for them only the targets of a value map are
checked, so a mapping cannot send a value to a channel that does not exist.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@dataclass(frozen=True)
class CanonicalValues:
    what: str                     # for messages: "a stage of the funnel (seeds/opportunity_stages.csv)"
    values: tuple[str, ...]
    case_sensitive: bool          # the warehouse matches stages exactly, sources and types in lower case
    every_value: bool             # every value of the column must be one, not only a value map's targets

    def holds(self, value: object) -> bool:
        if self.case_sensitive:
            return str(value) in self.values
        return str(value).lower() in {known.lower() for known in self.values}


@cache
def _seed_column(seed: str, column: str) -> tuple[str, ...]:
    with (SEEDS / seed).open(encoding="utf-8", newline="") as handle:
        return tuple(dict.fromkeys(row[column] for row in csv.DictReader(handle)))


def canonical_values(table: str, column: str) -> CanonicalValues | None:
    if column == "stage" and table in ("opportunities", "opportunity_history"):
        return CanonicalValues("a stage of the funnel (seeds/opportunity_stages.csv)",
                               _seed_column("opportunity_stages.csv", "stage"), case_sensitive=True, every_value=True)
    if (table, column) == ("leads", "source"):
        return CanonicalValues("a canonical lead source (seeds/lead_source_map.csv)",
                               tuple(dict.fromkeys((*_seed_column("lead_source_map.csv", "lead_source"), "other"))),
                               case_sensitive=False, every_value=False)
    if (table, column) == ("activities", "activity_type"):
        return CanonicalValues("a canonical activity type (seeds/activity_type_map.csv)",
                               tuple(dict.fromkeys((*_seed_column("activity_type_map.csv", "activity_type"), "other"))),
                               case_sensitive=False, every_value=False)
    return None

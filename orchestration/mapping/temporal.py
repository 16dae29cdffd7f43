"""Dates and timestamps of an export, as the landing contract wants them: timestamps in UTC, dates as
calendar dates of the business time zone.

`zone` is the time zone the export writes its wall-clock values in (a column's `timezone`, else
`defaults.timezone`), or None when the mapping does not say:

- a timestamp column's date-only value (`2017-04-01`) is a local date: midnight of `zone`, else of the
  business time zone, written as UTC. Read as UTC midnight instead, it would fall on the previous day,
  month or quarter in any zone west of UTC;
- a timestamp with a time of day is a wall-clock time of `zone`; without a zone it is UTC as written
  (the contract's own rule), and an explicit offset (`+02:00`, `Z`) always wins;
- a date column keeps a date-only value as it is; a value with a time of day becomes the business date
  of that moment when `zone` is given or the value has an offset, else its date as written.

A value without a format that is not ISO is left as written: the landing rejects it with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestration.landing.contract import DATE, TIMESTAMP
from orchestration.landing.file_source import quote_literal

TEMPORAL_TYPES = (DATE, TIMESTAMP)
_TIME_DIRECTIVE = re.compile(r"%-?[HIklMSfgnpXTRcs]")
_OFFSET_DIRECTIVE = re.compile(r"%-?[zZ]")
_DATE_ONLY_TEXT = quote_literal(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_OFFSET_TEXT = quote_literal(r".*[0-9]:[0-9]{2}.*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)")


@dataclass(frozen=True)
class Zones:
    export: str | None            # the export's own zone for wall-clock values, if the mapping names one
    business: str

    @property
    def for_dates(self) -> str:
        return self.export or self.business


def has_time_of_day(date_format: str) -> bool:
    return bool(_TIME_DIRECTIVE.search(date_format) or _OFFSET_DIRECTIVE.search(date_format))


def _utc_of_local(timestamp: str, zone: str) -> str:
    return f"cast(timezone('UTC', timezone({quote_literal(zone)}, {timestamp})) as varchar)"


def _utc_of_instant(instant: str) -> str:
    return f"cast(timezone('UTC', {instant}) as varchar)"


def _business_date_of_instant(instant: str, zones: Zones) -> str:
    return f"cast(cast(timezone({quote_literal(zones.business)}, {instant}) as date) as varchar)"


def _business_date_of_local(timestamp: str, zone: str, zones: Zones) -> str:
    return _business_date_of_instant(f"timezone({quote_literal(zone)}, {timestamp})", zones)


def _date_as_written(timestamp: str) -> str:
    return f"cast(cast({timestamp} as date) as varchar)"


def _formatted(parsed: str, date_format: str, contract_type: str, zones: Zones) -> str:
    offset = bool(_OFFSET_DIRECTIVE.search(date_format))
    timed = has_time_of_day(date_format)
    if contract_type == TIMESTAMP:
        if offset:
            return _utc_of_instant(parsed)
        if not timed:
            return _utc_of_local(parsed, zones.for_dates)
        return _utc_of_local(parsed, zones.export) if zones.export else f"cast({parsed} as varchar)"
    if offset:
        return _business_date_of_instant(parsed, zones)
    if timed and zones.export:
        return _business_date_of_local(parsed, zones.export, zones)
    return _date_as_written(parsed)


def formatted_sql(text: str, formats: tuple[str, ...], contract_type: str, zones: Zones) -> tuple[str, str]:
    """The contract's text for a value read with one of `formats` (the first that matches), and the
    condition under which a non-empty value matches none of them."""
    parsed = [f"try_strptime({text}, {quote_literal(date_format)})" for date_format in formats]
    cases = " ".join(f"when {one} is not null then {_formatted(one, date_format, contract_type, zones)}"
                     for one, date_format in zip(parsed, formats))
    mismatch = f"{text} is not null and " + " and ".join(f"{one} is null" for one in parsed)
    return f"(case {cases} end)", mismatch


def unformatted_sql(text: str, contract_type: str, zones: Zones) -> str:
    """The contract's text for an ISO value (no `format`); what is not ISO passes for the landing to judge."""
    date_only = f"regexp_full_match({text}, {_DATE_ONLY_TEXT}) and try_cast({text} as date) is not null"
    with_offset = f"regexp_full_match({text}, {_OFFSET_TEXT}) and try_cast({text} as timestamptz) is not null"
    local = f"try_cast({text} as timestamp)"
    cases = []
    if contract_type == TIMESTAMP:
        cases.append(f"when {date_only} then {_utc_of_local(f'cast(try_cast({text} as date) as timestamp)', zones.for_dates)}")
        if zones.export:
            cases.append(f"when not regexp_full_match({text}, {_OFFSET_TEXT}) and {local} is not null "
                         f"then {_utc_of_local(local, zones.export)}")
    else:
        cases.append(f"when {date_only} then {text}")
        cases.append(f"when {with_offset} then {_business_date_of_instant(f'try_cast({text} as timestamptz)', zones)}")
        if zones.export:
            cases.append(f"when {local} is not null then {_business_date_of_local(local, zones.export, zones)}")
    return f"(case {' '.join(cases)} else {text} end)"

"""The one error a mapping raises: a single line naming the mapping file and the setting (and, for a
value of the export, its file, line, column and value)."""

from __future__ import annotations


class MappingError(ValueError):
    """A mapping file that does not fit its export or the landing contract; the message names where."""

"""Landing raw CRM files into the warehouse's `raw` schema (see ../shared/specs/raw_schema.md)."""

from .errors import LandingAborted
from .loader import FileResult, LandingReport, land_directory

__all__ = ["FileResult", "LandingAborted", "LandingReport", "land_directory"]

"""Landing raw CRM files into the warehouse's `raw` schema (the contract: docs/landing_contract.md)."""

from .errors import LandingAborted
from .loader import FileResult, LandingReport, land_directory

__all__ = ["FileResult", "LandingAborted", "LandingReport", "land_directory"]

"""Mapping files: any CRM export onto the landing contract (see examples/ and README "Mapping files")."""

from .apply import MappedTable, apply_mapping
from .errors import MappingError
from .spec import load_mapping

__all__ = ["MappedTable", "MappingError", "apply_mapping", "load_mapping"]

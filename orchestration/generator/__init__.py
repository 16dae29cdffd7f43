"""Deterministic synthetic CRM data in the landing contract's shape."""

from .crm_tables_sql import GeneratorSettings
from .writer import FORMATS, WrittenTable, generate_landing

__all__ = ["FORMATS", "GeneratorSettings", "WrittenTable", "generate_landing"]

"""Reading a mapping file's YAML strictly, and checking each level's settings.

PyYAML's safe loader follows YAML 1.1, where `NO`, `yes`, `off` are booleans, `01` is a number and
`2017-12-31` a date: a value map `{NO: Norway}` would silently map the key `False`. A mapping file only
needs strings, `true`/`false` and `null`, so every other scalar stays the text that was written. A key
given twice would silently keep the last one; here it is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .errors import MappingError


class MappingLoader(yaml.SafeLoader):
    """Scalars are text except true/false and null; duplicate keys are errors."""

    yaml_implicit_resolvers: dict = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key == "<<":
                continue
            try:
                first_line = seen.get(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark) from None
            if first_line is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {first_line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


MappingLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
MappingLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


def read_document(mapping_path: Path) -> object:
    try:
        text = mapping_path.read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError(f"{mapping_path}: cannot be read: {error.strerror or error}") from error
    try:
        return yaml.load(text, Loader=MappingLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise MappingError(f"{mapping_path}{where}: not valid YAML: {problem}") from error
    except yaml.YAMLError as error:
        raise MappingError(f"{mapping_path}: not valid YAML: {' '.join(str(error).split())}") from error


def check_settings(mapping_path: Path, where: str, spec: dict, allowed: tuple[str, ...]) -> None:
    """Every setting of `spec` must be one of `allowed`: a misspelt or invented one is an error, never ignored."""
    unknown = [str(key) for key in spec if key not in allowed]
    if unknown:
        paths = ", ".join(f"{where}.{key}" if where else key for key in unknown)
        raise MappingError(f"{mapping_path}: {paths}: unknown setting{'s' if len(unknown) > 1 else ''} "
                           f"(allowed {'in ' + where if where else 'at the top'}: {', '.join(allowed)})")


def as_mapping(mapping_path: Path, where: str, value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise MappingError(f"{mapping_path}: {where}: must be {what}")
    return value


def as_text(mapping_path: Path, where: str, value: object, what: str = "a text") -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{mapping_path}: {where}: must be {what}, not {_shown(value)}")
    return value


def as_bool(mapping_path: Path, where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise MappingError(f"{mapping_path}: {where}: must be true or false, not {_shown(value)}")
    return value


def _shown(value: object) -> str:
    return "empty" if value is None else repr(value)

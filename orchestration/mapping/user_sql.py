"""A mapping's own `sql:`: the files it reads, and the row it fails on.

DuckDB resolves a relative path against the working folder (and only then `file_search_path`), so
`read_csv('other.csv')` would read whatever `other.csv` is where the command runs. Every relative
path the SQL reads is therefore rewritten to the --input folder, found in DuckDB's own parse of the
SQL (its byte offsets), and must exist there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

from orchestration.landing.file_source import quote_identifier, quote_literal

# table functions whose first argument is a file, a list of files or a glob
_FILE_FUNCTION = re.compile(r"^(read_\w+|parquet_\w+|sniff_csv|glob)$")
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_WRAPPER = "select ("


def _parse_tree(connection: duckdb.DuckDBPyConnection, query: str) -> dict | None:
    tree = json.loads(connection.execute("select json_serialize_sql(?)", [query]).fetchone()[0])
    return None if tree.get("error") else tree


def _nodes(tree: object) -> Iterator[dict]:
    if isinstance(tree, dict):
        yield tree
        for child in tree.values():
            yield from _nodes(child)
    elif isinstance(tree, list):
        for child in tree:
            yield from _nodes(child)


def _string_constants(expression: dict) -> Iterator[dict]:
    if expression.get("class") == "CONSTANT" and expression.get("literal", {}).get("kind") == "STRING":
        yield expression
    elif expression.get("function_name") == "list_value":
        for argument in expression.get("arguments", []):
            yield from _string_constants(argument.get("expression") or {})


def _file_references(tree: dict) -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """(path, byte offset in the parsed query, the spellings it may have there) of every file the query reads."""
    for node in _nodes(tree):
        if node.get("type") == "TABLE_FUNCTION" and _FILE_FUNCTION.match(node["function"].get("function_name", "")):
            positional = [argument for argument in node["function"].get("arguments", []) if not argument.get("name")]
            for constant in _string_constants(positional[0].get("expression") or {}) if positional else ():
                path = constant["literal"]["text"]
                yield path, constant["query_location"], (quote_literal(path),)
        elif node.get("type") == "BASE_TABLE" and re.search(r"[./\\]", node.get("table_name", "")):
            path = node["table_name"]
            yield path, node["query_location"], (quote_literal(path), quote_identifier(path))


def _is_local_relative(path: str) -> bool:
    return not (_REMOTE.match(path) or Path(path).is_absolute())


def _exists_in(input_dir: Path, path: str) -> bool:
    return any(input_dir.glob(path)) if any(mark in path for mark in "*?[") else (input_dir / path).exists()


def rooted_in_input(connection: duckdb.DuckDBPyConnection, expression: str, input_dir: Path) -> tuple[str, list[str]]:
    """`expression` with each relative path it reads made absolute under `input_dir`, and the relative
    paths that are not there. An expression DuckDB cannot parse is returned as it is."""
    tree = _parse_tree(connection, f"{_WRAPPER}{expression})")
    if tree is None:
        return expression, []
    text = expression.encode()
    offset = len(_WRAPPER.encode())
    missing, replacements = [], []
    for path, location, spellings in _file_references(tree):
        if not _is_local_relative(path):
            continue
        if not _exists_in(input_dir, path):
            missing.append(path)
        start = location - offset
        written = next((spelling.encode() for spelling in spellings if text.startswith(spelling.encode(), start)), None)
        if written is not None:
            replacements.append((start, start + len(written), quote_literal(str(input_dir / path)).encode()))
    for start, end, rooted in sorted(replacements, reverse=True):
        text = text[:start] + rooted + text[end:]
    return text.decode(), list(dict.fromkeys(missing))


def column_references(connection: duckdb.DuckDBPyConnection, expression: str) -> list[str]:
    """The columns an expression names, each as SQL (`"deals"."won_date"`), in order of appearance."""
    tree = _parse_tree(connection, f"select ({expression})")
    if tree is None:
        return []
    references = (tuple(node["column_names"]) for node in _nodes(tree)
                  if node.get("class") == "COLUMN_REF" and node.get("column_names"))
    return [".".join(quote_identifier(part) for part in names) for names in dict.fromkeys(references)]


def _fails(connection: duckdb.DuckDBPyConnection, query: str) -> str | None:
    try:
        connection.execute(query).fetchall()
    except duckdb.Error as error:
        return str(error).splitlines()[0]
    return None


def first_failing_line(connection: duckdb.DuckDBPyConnection, expression: str, relation: str, line: str,
                       first: int, last: int) -> tuple[int | None, str] | None:
    """None when `expression` runs on every row; else the first line whose row makes it fail (a cast of a
    bad value), found by halving the range of lines in log2(rows) queries, with DuckDB's error. The line
    is None when no single row fails (the SQL fails as a whole)."""
    def failure(low: int, high: int) -> str | None:
        return _fails(connection, f"select count(({expression})) from {relation} where {line} between {low} and {high}")

    error = failure(first, last)
    if error is None:
        return None
    low, high = first, last
    while low < high:
        middle = (low + high) // 2
        if failure(low, middle) is not None:
            high = middle
        else:
            low = middle + 1
    single = failure(low, low)
    return (low, single) if single else (None, error)

"""Reading one landing file with DuckDB's own readers, as SQL that streams.

`open_source` returns a `FileSource`: the file's column names (normalised to the
contract's snake_case) and a SQL `select` producing `_line` plus one column per file
column. CSV and JSON lines come out as text, Parquet with its own types; typing to the
contract happens in `typing_sql`.
"""

from __future__ import annotations

import codecs
import csv
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .errors import FileRejected
from .file_options import PYTHON_CODECS, FileOptions, data_suffix, open_decompressed
from .landing_folder import is_utf8_name

JSON_LINE_COLUMN = "_json_line"
# The unit separator cannot occur unescaped in valid JSON, so each line is one field.
JSON_LINE_SEPARATOR = "\\x1f"
TRANSCODE_CHUNK_CHARS = 4 * 1024 * 1024
# DuckDB's default (2 MB) rejects a long notes field; a longer line is rejected with its line number
MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass
class FileSource:
    select_sql: str
    # normalised column name -> SQL expression yielding the file's value
    columns: dict[str, str]
    # name of DuckDB's CSV rejects table for structural errors, if any
    csv_rejects_table: str | None = None
    # SQL giving a reason when the whole record is unreadable (invalid JSON line), else null
    record_error_sql: str | None = None
    # normalised column name -> the file's own SQL type, for typed formats (Parquet); text otherwise
    column_types: dict[str, str] = field(default_factory=dict)


def normalise_column_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def readable_file(path: Path, options: FileOptions) -> Iterator[Path]:
    """A path DuckDB's readers can open: the file itself, or a plain UTF-8 copy when it is compressed or
    in another encoding (DuckDB reads UTF-8 only; other encodings need an extension we cannot
    download), made chunk by chunk so memory stays flat. A name that is not UTF-8 (DuckDB cannot open
    it) is read through a link with a plain name."""
    if options.needs_transcoding:
        with tempfile.TemporaryDirectory(prefix="crm_kpis_transcode_") as folder:
            target = Path(folder) / ("file" + data_suffix(path.name))
            _transcode(path, options, target)
            yield target
    elif not is_utf8_name(path):
        with tempfile.TemporaryDirectory(prefix="crm_kpis_name_") as folder:
            alias = Path(folder) / ("file" + data_suffix(path.name))
            alias.symlink_to(path)
            yield alias
    else:
        yield path


def _transcode(path: Path, options: FileOptions, target: Path) -> None:
    encoding = PYTHON_CODECS[options.encoding or "utf-8"]
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open_decompressed(path, options.compression) as source, target.open("w", encoding="utf-8", newline="") as sink:
        while chunk := source.read(TRANSCODE_CHUNK_CHARS):
            sink.write(_decode(decoder, chunk, options.encoding))
        sink.write(decoder.decode(b"", final=True))


def _decode(decoder: codecs.IncrementalDecoder, chunk: bytes, encoding: str | None) -> str:
    try:
        return decoder.decode(chunk)
    except UnicodeDecodeError:
        if encoding != "windows-1252":
            raise
        # Five bytes are undefined in cp1252; keep them as the C1 control they map to in Latin-1
        # so the value is still landed (and visible) rather than the file failing.
        return chunk.decode("latin-1")


def _unique_columns(names: list[str], where: str) -> dict[str, str]:
    """Normalised name -> original name; two columns that are one contract column would make the
    reader fail with an unrelated error (or one silently win), so they reject the file here."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        normalised = normalise_column_name(name)
        if normalised in seen:
            raise FileRejected(
                f"column '{normalised}' appears twice in the {where} (columns {seen[normalised]} and {position}); "
                "rename or remove one")
        seen[normalised] = position
    return {normalise_column_name(name): name for name in names}


def _csv_reader_sql(path: Path, options: FileOptions, header: list[str], rejects_table: str) -> str:
    columns = ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in header)
    parts = [
        quote_literal(str(path)),
        "header = true",
        f"columns = {{{columns}}}",
        "auto_detect = false",
        f"delim = {quote_literal(options.delimiter or ',')}",
        "quote = '\"'",
        "escape = '\"'",
        f"max_line_size = {MAX_LINE_BYTES}",
        f"buffer_size = {2 * MAX_LINE_BYTES}",
    ]
    parts += [
        "store_rejects = true",
        f"rejects_table = {quote_literal(rejects_table)}",
        f"rejects_scan = {quote_literal(rejects_table + '_scan')}",
    ]
    return f"read_csv({', '.join(parts)})"


def _csv_header(path: Path, options: FileOptions) -> list[str]:
    """The header parsed by us, not DuckDB's sniffer, which gives up on a file with one ragged row.
    `path` is plain UTF-8 (see `readable_file`)."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        first_line = handle.readline()
    header = next(csv.reader([first_line], delimiter=options.delimiter or ","), [])
    names = [name.strip() for name in header]
    if not any(names):
        raise FileRejected("the first line holds no column names")
    return names


def open_source(connection: duckdb.DuckDBPyConnection, path: Path, options: FileOptions, scan_name: str) -> FileSource:
    """`path` must be readable by DuckDB: plain UTF-8 for CSV and JSON lines (see `readable_file`)."""
    if options.format == "parquet":
        reader = f"read_parquet({quote_literal(str(path))}, file_row_number = true)"
        described = [(row[0], row[1]) for row in connection.sql(f"describe select * from {reader}").fetchall()]
        names = _unique_columns([name for name, _ in described if name != "file_row_number"], "file's schema")
        types = dict(described)
        return FileSource(
            select_sql=f"select file_row_number + 1 as _line, * from {reader}",
            columns={normalised: quote_identifier(name) for normalised, name in names.items()},
            column_types={normalised: types[name].lower() for normalised, name in names.items()},
        )

    if options.format == "csv":
        header = _csv_header(path, options)
        rejects_table = f"{scan_name}_csv_rejects"
        reader = _csv_reader_sql(path, options, header, rejects_table)
        columns = {normalised: quote_identifier(name) for normalised, name in _unique_columns(header, "header").items()}
        # +1: line 1 is the header; records are numbered in file order (insertion order is preserved).
        return FileSource(
            select_sql=f"select row_number() over () + 1 as _line, * from {reader}",
            columns=columns,
            csv_rejects_table=rejects_table,
        )

    reader = (
        f"read_csv({quote_literal(str(path))}, columns = {{'{JSON_LINE_COLUMN}': 'VARCHAR'}}, header = false, "
        f"delim = '{JSON_LINE_SEPARATOR}', quote = '', escape = '', auto_detect = false)"
    )
    keys = connection.sql(
        f"select distinct unnest(json_keys({JSON_LINE_COLUMN})) from {reader} where json_valid({JSON_LINE_COLUMN})"
    ).fetchall()
    columns = {
        normalised: (
            f"case when json_valid({JSON_LINE_COLUMN}) then "
            f"json_extract_string({JSON_LINE_COLUMN}, {quote_literal('$.' + chr(34) + key + chr(34))}) end"
        )
        for normalised, key in _unique_columns(sorted(key for (key,) in keys), "objects' keys").items()
    }
    return FileSource(
        # Blank lines are not records; numbering is taken before they are dropped so lines stay true.
        select_sql=f"select * from (select row_number() over () as _line, * from {reader}) where {JSON_LINE_COLUMN} is not null",
        columns=columns,
        record_error_sql=f"case when not json_valid({JSON_LINE_COLUMN}) then 'not a valid JSON object' end",
    )


def cleanup_scan(connection: duckdb.DuckDBPyConnection, source: FileSource) -> None:
    if source.csv_rejects_table:
        connection.execute(f"drop table if exists {source.csv_rejects_table}")
        connection.execute(f"drop table if exists {source.csv_rejects_table}_scan")



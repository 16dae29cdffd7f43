"""How a landing file is read: its format and, for CSV, delimiter, encoding and decimal mark.

Explicit settings come from `_options.toml` in the table folder (all its files) or
`<file>.options.toml` beside a file (that file only, overriding the folder). Whatever is
not set explicitly is detected, and every detected value is reported back as an
assumption so the caller can log it: nothing is guessed silently.
"""

from __future__ import annotations

import codecs
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FileRejected

FOLDER_OPTIONS_FILE = "_options.toml"
FILE_OPTIONS_SUFFIX = ".options.toml"
FORMAT_BY_SUFFIX = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
KNOWN_OPTIONS = {"format", "delimiter", "encoding", "decimal_separator", "date_format", "timestamp_format"}
SUPPORTED_ENCODINGS = {"utf-8", "windows-1252"}
ENCODING_ALIASES = {"utf8": "utf-8", "utf-8-sig": "utf-8", "cp1252": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252"}
# Enough bytes to see the header and many rows; a bad byte later is still caught per line.
ENCODING_SNIFF_BYTES = 8 * 1024 * 1024


class OptionsError(FileRejected):
    """The options for a file are invalid; the message names the setting (and options file)."""


@dataclass
class FileOptions:
    format: str
    delimiter: str | None = None
    encoding: str | None = None
    decimal_separator: str | None = None
    date_format: str | None = None
    timestamp_format: str | None = None
    # Human-readable notes of everything that was detected rather than set.
    assumptions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "format": self.format,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "decimal_separator": self.decimal_separator,
            "date_format": self.date_format,
            "timestamp_format": self.timestamp_format,
        }


def is_options_file(path: Path) -> bool:
    return path.name == FOLDER_OPTIONS_FILE or path.name.endswith(FILE_OPTIONS_SUFFIX)


def _read_options_file(path: Path) -> dict[str, str]:
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise OptionsError(f"options file {path.name} is not valid TOML ({error})") from None
    unknown = sorted(set(settings) - KNOWN_OPTIONS)
    if unknown:
        raise OptionsError(f"options file {path.name}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_OPTIONS))}")
    return {key: str(value) for key, value in settings.items()}


def explicit_options(data_file: Path) -> dict[str, str]:
    """Folder settings overlaid by the file's own settings."""
    settings: dict[str, str] = {}
    folder_file = data_file.parent / FOLDER_OPTIONS_FILE
    if folder_file.exists():
        settings.update(_read_options_file(folder_file))
    own_file = data_file.with_name(data_file.name + FILE_OPTIONS_SUFFIX)
    if own_file.exists():
        settings.update(_read_options_file(own_file))
    return settings


def _normalise_encoding(value: str) -> str:
    encoding = ENCODING_ALIASES.get(value.lower(), value.lower())
    if encoding not in SUPPORTED_ENCODINGS:
        raise OptionsError(f"encoding '{value}' is not supported; use utf-8 or windows-1252")
    return encoding


def detect_encoding(path: Path) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        chunk = handle.read(ENCODING_SNIFF_BYTES)
    try:
        decoder.decode(chunk, final=False)
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _first_line(path: Path, encoding: str) -> str:
    with path.open("r", encoding="utf-8-sig" if encoding == "utf-8" else "cp1252", errors="replace", newline="") as handle:
        return handle.readline()


def detect_delimiter(header_line: str) -> str:
    """The candidate separator that occurs most often in the header, outside quotes."""
    unquoted = header_line.split('"')[0::2]
    text = "".join(unquoted)
    counts = {candidate: text.count(candidate) for candidate in (",", ";", "\t", "|")}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] > 0 else ","


def resolve_options(data_file: Path) -> FileOptions:
    """Explicit settings where given, detection otherwise (decimal mark is detected later, from values)."""
    settings = explicit_options(data_file)
    file_format = settings.get("format") or FORMAT_BY_SUFFIX.get(data_file.suffix.lower())
    if file_format is None:
        raise OptionsError(
            f"unsupported file type '{data_file.suffix}'; expected one of {', '.join(sorted(FORMAT_BY_SUFFIX))}"
        )
    if file_format not in set(FORMAT_BY_SUFFIX.values()):
        raise OptionsError(f"unknown format '{file_format}'; use csv, parquet or jsonl")
    options = FileOptions(
        format=file_format,
        date_format=settings.get("date_format"),
        timestamp_format=settings.get("timestamp_format"),
        decimal_separator=settings.get("decimal_separator"),
    )
    if options.decimal_separator not in (None, ".", ","):
        raise OptionsError(f"decimal_separator must be '.' or ','")
    if file_format != "csv":
        return options

    if "encoding" in settings:
        options.encoding = _normalise_encoding(settings["encoding"])
    else:
        options.encoding = detect_encoding(data_file)
        options.assumptions.append(
            f"encoding {options.encoding} (detected: first {ENCODING_SNIFF_BYTES // (1024 * 1024)} MiB "
            + ("are valid UTF-8)" if options.encoding == "utf-8" else "are not valid UTF-8)")
        )
    if "delimiter" in settings:
        options.delimiter = "\t" if settings["delimiter"] in ("\\t", "tab") else settings["delimiter"]
    else:
        options.delimiter = detect_delimiter(_first_line(data_file, options.encoding))
        options.assumptions.append(f"delimiter {options.delimiter!r} (detected from the header line)")
    return options

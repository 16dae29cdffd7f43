"""How a landing file is read: its format, compression and, for CSV, delimiter, encoding and decimal mark.

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
# gzip is read (decompressed while streaming); other compressions are named so the user can unpack them
COMPRESSED_SUFFIXES = {".gz": "gzip"}
COMPRESSION_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
READABLE_COMPRESSIONS = {"gzip"}
KNOWN_OPTIONS = {"format", "delimiter", "encoding", "decimal_separator", "date_format", "timestamp_format", "compression"}
SUPPORTED_ENCODINGS = {"utf-8", "windows-1252", "utf-16", "utf-16-le", "utf-16-be"}
ENCODING_ALIASES = {
    "utf8": "utf-8", "utf-8-sig": "utf-8", "cp1252": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252",
    "utf16": "utf-16", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be",
}
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
    compression: str | None = None
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
            "compression": self.compression,
        }

    @property
    def needs_transcoding(self) -> bool:
        """DuckDB reads plain UTF-8 only (other encodings need an extension we cannot download)."""
        return self.compression is not None or self.encoding not in (None, "utf-8")


def is_options_file(path: Path) -> bool:
    return path.name == FOLDER_OPTIONS_FILE or path.name.endswith(FILE_OPTIONS_SUFFIX)


def data_suffix(name: str) -> str:
    """The suffix that names the format, under a compression suffix: `deals.csv.gz` -> `.csv`."""
    path = Path(name)
    if path.suffix.lower() in COMPRESSED_SUFFIXES:
        path = path.with_suffix("")
    return path.suffix.lower()


def sniff_compression(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(8)
    return next((name for magic, name in COMPRESSION_MAGIC.items() if head.startswith(magic)), None)


def open_decompressed(path: Path, compression: str | None):
    """The file's bytes as a binary stream, decompressed while read."""
    if compression == "gzip":
        import gzip

        return gzip.open(path, "rb")
    return path.open("rb")


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
        raise OptionsError(f"encoding '{value}' is not supported; use one of {', '.join(sorted(SUPPORTED_ENCODINGS))}")
    return encoding


def _utf16_without_bom(chunk: bytes) -> str | None:
    """UTF-16 text of mostly ASCII has a NUL in every other byte: little-endian puts it second."""
    sample = chunk[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    odd_nuls = sample[1::2].count(0)
    even_nuls = sample[0::2].count(0)
    if odd_nuls > 0.9 * (len(sample) // 2) - 2 and even_nuls < odd_nuls / 4:
        return "utf-16-le"
    if even_nuls > 0.9 * (len(sample) // 2) - 2 and odd_nuls < even_nuls / 4:
        return "utf-16-be"
    return None


def detect_encoding(path: Path, compression: str | None = None) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_decompressed(path, compression) as handle:
        chunk = handle.read(ENCODING_SNIFF_BYTES)
    if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if (utf16 := _utf16_without_bom(chunk)) is not None:
        return utf16
    if b"\x00" in chunk:
        raise OptionsError("the file holds NUL bytes and is not UTF-16 text: is it a binary file (e.g. a spreadsheet) named as CSV?")
    try:
        decoder.decode(chunk, final=False)
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


PYTHON_CODECS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252", "utf-16": "utf-16", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}


def _first_line(path: Path, encoding: str, compression: str | None) -> str:
    import io

    with open_decompressed(path, compression) as raw:
        text = io.TextIOWrapper(raw, encoding=PYTHON_CODECS[encoding], errors="replace", newline="")
        return text.readline()


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
    suffix = data_suffix(data_file.name)
    file_format = settings.get("format") or FORMAT_BY_SUFFIX.get(suffix)
    if file_format is None:
        raise OptionsError(
            f"unsupported file type '{suffix or data_file.name}'; expected one of {', '.join(sorted(FORMAT_BY_SUFFIX))}"
            f" (optionally compressed: {', '.join(COMPRESSED_SUFFIXES)})"
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
        raise OptionsError("decimal_separator must be '.' or ','")
    if file_format == "parquet":
        return options
    _resolve_compression(data_file, settings, options)
    if file_format != "csv":
        return options

    if "encoding" in settings:
        options.encoding = _normalise_encoding(settings["encoding"])
    else:
        options.encoding = detect_encoding(data_file, options.compression)
        sniffed = f"first {ENCODING_SNIFF_BYTES // (1024 * 1024)} MiB"
        options.assumptions.append(f"encoding {options.encoding} (detected: " + {
            "utf-8": f"{sniffed} are valid UTF-8)",
            "windows-1252": f"{sniffed} are not valid UTF-8)",
        }.get(options.encoding, "byte-order mark or NUL bytes of UTF-16 text)"))
    if "delimiter" in settings:
        options.delimiter = "\t" if settings["delimiter"] in ("\\t", "tab") else settings["delimiter"]
    else:
        options.delimiter = detect_delimiter(_first_line(data_file, options.encoding, options.compression))
        options.assumptions.append(f"delimiter {options.delimiter!r} (detected from the header line)")
    return options


def _resolve_compression(data_file: Path, settings: dict[str, str], options: FileOptions) -> None:
    """gzip is read whatever the file is called; another compression is a clear error, never a
    "missing column" puzzle."""
    sniffed = sniff_compression(data_file)
    stated = settings.get("compression")
    if stated is not None and stated not in READABLE_COMPRESSIONS | {"none"}:
        raise OptionsError(f"compression '{stated}' is not supported; use gzip or none")
    compression = sniffed if stated is None else (None if stated == "none" else stated)
    if compression is not None and compression not in READABLE_COMPRESSIONS:
        raise OptionsError(f"compressed file ({compression}); unpack it, or compress it with gzip, before landing")
    if compression is not None and sniffed != compression:
        raise OptionsError(f"compression is set to {compression} but the file is not {compression}-compressed")
    options.compression = compression
    if compression is not None and stated is None:
        options.assumptions.append(f"compression {compression} (detected from the file's first bytes)")

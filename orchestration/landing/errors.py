"""Errors of landing. A `FileRejected` rejects one file (bad input: recorded, the run goes on);
`LandingAborted` stops the whole run (the warehouse cannot be written: a full disk, an I/O error).
Messages never include the data file's path: the loader prefixes it, relative to the landing folder,
so every message names the file."""

from __future__ import annotations

import errno

import duckdb

WRITE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS, errno.EFBIG}
# DuckDB reports failed writes as IO, transaction or fatal errors; these are their words
WRITE_FAILURE_WORDS = ("no space left on device", "input/output error", "could not write file", "failed to commit",
                       "disk quota exceeded", "read-only file system", "database has been invalidated",
                       "failed to create checkpoint")


class FileRejected(Exception):
    """The file as a whole cannot be landed."""


class LandingAborted(Exception):
    """The warehouse could not be written; the run stops and is not recorded as a success."""


def is_write_failure(error: BaseException) -> bool:
    if isinstance(error, duckdb.FatalException):
        return True
    if isinstance(error, OSError) and error.errno in WRITE_ERRNOS:
        return True
    return isinstance(error, duckdb.Error) and any(words in str(error).lower() for words in WRITE_FAILURE_WORDS)

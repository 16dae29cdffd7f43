"""One-line progress messages on stderr (stdout carries results), shared by the CLI and the pipeline steps."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_started = time.perf_counter()
_terminal: TextIO | None = None


def say(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=_terminal or sys.stderr, flush=True)


@contextmanager
def on_this_terminal() -> Iterator[None]:
    """Keep progress on today's stderr while the block sends stdout and stderr elsewhere (a log)."""
    global _terminal
    previous, _terminal = _terminal, sys.stderr
    try:
        yield
    finally:
        _terminal = previous

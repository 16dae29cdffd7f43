"""One-line progress messages on stderr (stdout carries results), shared by the CLI and the pipeline steps."""

from __future__ import annotations

import sys
import time

_started = time.perf_counter()


def say(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)

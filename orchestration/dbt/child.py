"""`crm-kpis-dbt`: dbt's own command line, run as a child that dies with the process that started it.

dagster-dbt and `run_dbt` start dbt as a subprocess. Were the refresh killed (kill -9, an OOM kill),
a plain dbt child would go on writing the warehouse for minutes and hold its DuckDB lock, so the next
refresh would fail. Linux's parent-death signal ends this child with its parent instead."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def main() -> None:
    die_with_parent()
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()

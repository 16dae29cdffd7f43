"""One refresh at a time per warehouse: an OS file lock beside the warehouse file.

Every command that writes the warehouse (`land`, `load-source`, `refresh`, `demo`) and every Dagster
run of the refresh job holds it. The kernel releases it when the holder dies, however it dies
(kill -9 included), so a crash never leaves a stale lock behind. Who holds it (pid, command, since
when) is written into the lock file, so a second refresh can say so in one line."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


class WarehouseBusy(Exception):
    """Another process holds the warehouse's lock; the message names it."""


@dataclass(frozen=True)
class LockHolder:
    pid: int
    command: str
    since: str

    def describe(self) -> str:
        return f"pid {self.pid}, {self.command}, since {self.since}"


# Within one process the lock is re-entrant (the CLI holds it and the in-process Dagster run it starts
# asks again): a second flock on a new descriptor of the same file would block on ourselves.
_held: dict[Path, list] = {}
_guard = threading.Lock()


def lock_path(warehouse: Path) -> Path:
    return warehouse.resolve().parent / f"{warehouse.name}.lock"


def lock_holder(warehouse: Path) -> LockHolder | None:
    """Who holds the warehouse's lock, or None when nobody does (a stale file of a dead holder is free)."""
    path = lock_path(warehouse)
    if not path.exists():
        return None
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _read_holder(path: Path) -> LockHolder:
    try:
        raw = json.loads(path.read_text() or "{}")
        return LockHolder(int(raw["pid"]), str(raw["command"]), str(raw["since"]))
    except (OSError, ValueError, KeyError):
        return LockHolder(-1, "an unknown command", "an unknown time")


@contextmanager
def warehouse_lock(warehouse: Path, command: str) -> Iterator[None]:
    """Hold the warehouse's lock for the block; raises WarehouseBusy at once when another process holds it."""
    path = lock_path(warehouse)
    with _guard:
        entry = _held.get(path)
        if entry is not None:
            entry[1] += 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                holder = _read_holder(path)
                raise WarehouseBusy(
                    f"a refresh is already running on {warehouse} ({holder.describe()}); "
                    "wait for it to finish, or stop it") from None
            handle.truncate(0)
            handle.write(json.dumps({"pid": os.getpid(), "command": command,
                                     "since": datetime.now().astimezone().isoformat(timespec="seconds")}))
            handle.flush()
            _held[path] = [handle, 1]
    try:
        yield
    finally:
        with _guard:
            entry = _held[path]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[path]
                entry[0].truncate(0)
                fcntl.flock(entry[0], fcntl.LOCK_UN)
                entry[0].close()

"""A throw-away local Postgres cluster for the tests and the engine benchmark (bench/engines.py): initdb into a
temporary folder, 127.0.0.1 on a free port, stopped by its process id. The server itself comes from
scripts/install_system_packages.sh (`make test` runs it)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# generous: a busy 2-core CI machine may take a while, and only a server that never comes up waits this long
READY_SECONDS = 120


def postgres_binary(name: str) -> str:
    """initdb / postgres from PATH, else from Debian's versioned folder (the newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda path: int(Path(path).parts[-3]))
    if not candidates:
        raise RuntimeError(f"Postgres's {name} is not installed: run scripts/install_system_packages.sh (make test does)")
    return candidates[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalPostgres:
    """A Postgres cluster of its own: superuser `postgres`, trust authentication on 127.0.0.1 only.

    initdb refuses to run as root, so as root the cluster belongs to the system user `postgres` (created by
    Debian's package) and lives in a folder under /tmp that user can enter."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="crm-kpis-postgres-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.host = "127.0.0.1"
        self.user = "postgres"
        self.process: subprocess.Popen | None = None
        self.log = self.folder / "server.log"

    @property
    def settings(self) -> dict[str, str]:
        """Connection settings as orchestration.engines.postgres.PostgresEngine takes them."""
        return {"host": self.host, "port": str(self.port), "user": self.user, "password": ""}

    def _run_as(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        owner = pwd.getpwnam("postgres")
        os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}

    def start(self) -> LocalPostgres:
        as_user = self._run_as()
        initialised = subprocess.run(
            [postgres_binary("initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C"],
            capture_output=True, text=True, **as_user)
        if initialised.returncode != 0:
            raise RuntimeError(f"initdb failed: {initialised.stderr[-2000:]}")
        with self.log.open("w") as log:
            # durability settings off: a test cluster is thrown away, and fsync costs most of a build here
            self.process = subprocess.Popen(
                [postgres_binary("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=50"],
                stdout=log, stderr=subprocess.STDOUT, **as_user)
        deadline = time.monotonic() + READY_SECONDS
        while not self._accepts_connections():
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"postgres did not accept connections within {READY_SECONDS} s: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        return self

    def _accepts_connections(self) -> bool:
        import psycopg2

        try:
            psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname="postgres", connect_timeout=5).close()
            return True
        except psycopg2.OperationalError:
            return False

    def stop(self) -> None:
        """Fast shutdown by process id (SIGINT), then SIGKILL if it hangs; the folder is removed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

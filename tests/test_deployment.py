"""The production set-up of docs/deployment.md, started for real: the Dagster daemon loads the code
location from deploy/workspace.yaml and the nightly schedule ticks (here every minute) and requests a
refresh. Runs are queued and none is started (max_concurrent_runs 0), so the test only watches the tick."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from orchestration.settings import PROJECT_DIR

PATIENCE_SECONDS = 600


def test_the_daemon_ticks_the_nightly_schedule_and_stops_on_sigterm(tmp_path):
    import dagster as dg
    from dagster._core.storage.dagster_run import RunsFilter

    from orchestration.defs.dbt.project import prepare_manifest
    from orchestration.settings import Settings

    home, dagster_home = tmp_path / "home", tmp_path / "home" / ".dagster_home"
    dagster_home.mkdir(parents=True)
    instance_config = yaml.safe_load((PROJECT_DIR / "deploy" / "dagster.yaml").read_text())
    instance_config["run_coordinator"]["config"]["max_concurrent_runs"] = 0  # queue the run, never start it
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(instance_config))
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CRM_KPIS_", "DAGSTER_"))}
    environment.update({"CRM_KPIS_HOME": str(home), "DAGSTER_HOME": str(dagster_home), "CRM_KPIS_REFRESH_CRON": "* * * * *"})
    prepare_manifest(Settings.from_environment(environment))

    # the instance's storages created before the daemon starts: two processes creating the same SQLite schema at
    # once fail with "table ... already exists" (seen in CI)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    for storage in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
        assert storage is not None
    instance.get_runs(limit=1)
    daemon = subprocess.Popen([str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "deploy/workspace.yaml"],
                              cwd=PROJECT_DIR, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        runs = []
        while time.monotonic() < deadline and not runs and daemon.poll() is None:
            runs = instance.get_runs(filters=RunsFilter(tags={"dagster/schedule_name": "nightly_refresh"}))
            time.sleep(2)
        assert daemon.poll() is None, daemon.stderr.read()[-3000:]
        assert runs, "the schedule did not tick"
        assert runs[0].job_name == "refresh"
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=PATIENCE_SECONDS)
    assert daemon.returncode is not None

"""A plain-text report of a failed refresh, for whoever is on call (written by the run-failure sensor)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def write_failure_report(quality: Path, run_id: str, message: str, failed_steps: list[str]) -> Path:
    folder = quality / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    text = (f"refresh run {run_id} failed at {datetime.now().isoformat(timespec='seconds')}\n"
            f"failed steps: {', '.join(failed_steps) or 'unknown'}\n"
            f"{message}\n"
            "The serving file was not replaced: BI tools still read the last good publish.\n")
    path = folder / f"{run_id}.txt"
    path.write_text(text)
    (folder / "latest.txt").write_text(text)
    return path

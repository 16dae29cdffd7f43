"""The semantic manifest (dbt's semantic_manifest.json: semantic models and metrics) published beside the
serving file, so MetricFlow queries the served marts with the definitions they were built with."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SEMANTIC_MANIFEST_NAME = "semantic_manifest.json"
READ_ONLY = 0o444


def published_semantic_manifest(serving_dir: Path) -> Path:
    return serving_dir / SEMANTIC_MANIFEST_NAME


def publish_semantic_manifest(dbt_manifest_path: Path, serving_dir: Path) -> Path | None:
    """Copy the semantic manifest dbt wrote beside its manifest into the serving folder (atomically, read-only).
    None when the build wrote none."""
    source = dbt_manifest_path.parent / SEMANTIC_MANIFEST_NAME
    if not source.exists():
        return None
    target = published_semantic_manifest(serving_dir)
    staged = serving_dir / f".publishing-{SEMANTIC_MANIFEST_NAME}"
    staged.unlink(missing_ok=True)
    shutil.copyfile(source, staged)
    staged.chmod(READ_ONLY)
    os.replace(staged, target)
    return target

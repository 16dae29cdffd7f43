"""Resources of the refresh job."""


from collections.abc import Iterator
from contextlib import contextmanager

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at definition time
import dagster as dg

from orchestration.run_lock import warehouse_lock
from orchestration.settings import Settings


def warehouse_lock_resource(settings: Settings) -> dg.ResourceDefinition:
    """One refresh at a time: the run holds the warehouse's lock from its first step to its last (the job
    runs in one process, so the resource is set up once per run). A run started while another refresh
    holds it fails at once, naming the holder."""

    @dg.resource(description="the warehouse's run lock, held for the whole run")
    @contextmanager
    def lock(context: dg.InitResourceContext) -> Iterator[Settings]:
        with warehouse_lock(settings.warehouse, f"Dagster run {context.run_id}"):
            yield settings

    return lock

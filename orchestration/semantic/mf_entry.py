"""MetricFlow's own command line (`mf`), without its check for a newer release on every call: that is a
network request to the package index before each query (offline, a wait for its timeout)."""

from __future__ import annotations

import sys


class _NoUpdateCheck:
    def check(self, package_name: str, package_version: str) -> None:
        return None


def main() -> None:
    from dbt_metricflow.cli import main as mf_main

    mf_main.UpdateChecker = _NoUpdateCheck
    mf_main.cli(prog_name="crm-kpis metrics")


if __name__ == "__main__":
    sys.exit(main())

"""Writing the dashboard: one HTML file with the chart library, the page's code and the data inside,
so it opens from disk in any browser with no server and no network (a CDN would fail offline, and
a page with separate script files cannot be mailed or archived as one file)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import plotly

from orchestration.dashboard.datasets import open_serving_file, read_datasets, read_publish_info

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
REPORT_NAME = "index.html"


@dataclass(frozen=True)
class DashboardReport:
    path: Path
    size_bytes: int
    published_at: str | None


def _script_safe(text: str) -> str:
    # inside <script> only "</" can end the element early; JSON and JavaScript read "<\/" as "</"
    return text.replace("</", "<\\/")


def render_page(data: dict) -> str:
    template = (STATIC / "template.html").read_text(encoding="utf-8")
    replacements = {
        "/*STYLE*/": (STATIC / "dashboard.css").read_text(encoding="utf-8"),
        "/*PLOTLY*/": _script_safe(PLOTLY_JS.read_text(encoding="utf-8")),
        "/*DATA*/": _script_safe(json.dumps(data, separators=(",", ":"), allow_nan=False)),
        "/*APP*/": _script_safe((STATIC / "dashboard.js").read_text(encoding="utf-8")),
    }
    for marker, content in replacements.items():
        before, found, after = template.partition(marker)
        if not found:
            raise ValueError(f"the dashboard template lacks {marker}")
        template = before + content + after  # not str.replace: the content may hold another marker's text
    return template


def build_dashboard(serving_file: Path, out_dir: Path) -> DashboardReport:
    """Read the published marts (read-only) and write out_dir/index.html, replacing it atomically so a
    browser reloading it never sees half a file."""
    with open_serving_file(serving_file) as connection:
        datasets = read_datasets(connection)
        info = read_publish_info(connection)
    data = {"info": info, "datasets": {name: {"columns": d.columns, "rows": d.rows} for name, d in datasets.items()}}
    page = render_page(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / REPORT_NAME
    staged = out_dir / f".{REPORT_NAME}.{os.getpid()}.tmp"
    staged.write_text(page, encoding="utf-8")
    os.replace(staged, target)
    return DashboardReport(target, target.stat().st_size, info["published_at"])

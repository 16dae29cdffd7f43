"""Great Expectations' Data Docs, styled offline. GE's pages load Bootstrap, jQuery, Font Awesome, Vega
and friends from CDNs, so on a machine without internet they render unstyled. The same files come from
the npm registry (`make install` runs `python -m expectations.data_docs_assets fetch` into
.tools/data_docs_assets); after each build the pages are rewritten to a copy inside the site.

Without npm (or offline set-up) the pages stay as GE wrote them: readable, unstyled, and said so."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from orchestration.settings import PROJECT_DIR

log = logging.getLogger(__name__)
ASSETS_DIR = PROJECT_DIR / ".tools" / "data_docs_assets"
VENDOR = "vendor"
# npm package (pinned) -> the CDN addresses GE 1.24 writes, each with the file of the package it serves
PACKAGES: dict[str, dict[str, str]] = {
    "bootstrap@4.3.1": {
        "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "dist/css/bootstrap.min.css",
        "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "dist/js/bootstrap.min.js"},
    "jquery@3.7.1": {"https://code.jquery.com/jquery-3.7.1.min.js": "dist/jquery.min.js"},
    "popper.js@1.12.9": {"https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "dist/umd/popper.min.js"},
    "bootstrap-datepicker@1.9.0": {
        "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "dist/css/bootstrap-datepicker.min.css",
        "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "dist/js/bootstrap-datepicker.min.js"},
    # its CSS finds its fonts at ../webfonts: the whole package is copied
    "@fortawesome/fontawesome-free@6.6.0": {"https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/all.min.css"},
    "vega@5.33.1": {"https://cdn.jsdelivr.net/npm/vega@5": "build/vega.min.js"},
    "vega-lite@5.23.0": {"https://cdn.jsdelivr.net/npm/vega-lite@5": "build/vega-lite.min.js"},
    "vega-embed@6.29.0": {"https://cdn.jsdelivr.net/npm/vega-embed@6": "build/vega-embed.min.js"},
    "bootstrap-table@1.19.1": {
        "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "dist/bootstrap-table.min.css",
        "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "dist/bootstrap-table.min.js",
        "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"},
    "@forevolve/bootstrap-dark@1.1.0": {
        "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": "dist/css/bootstrap-prefers-dark.css"},
}


def _folder(package: str) -> str:
    return package.replace("@", "").replace("/", "-")


def fetch(target: Path = ASSETS_DIR) -> int:
    """Download every package from the npm registry once (a second run does nothing)."""
    npm = shutil.which("npm")
    missing = [package for package in PACKAGES if not (target / _folder(package) / "package.json").exists()]
    if not missing:
        return 0
    if npm is None:
        print("Data Docs assets: npm is not installed; Data Docs will render unstyled offline", file=sys.stderr)
        return 0
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for package in missing:
            packed = subprocess.run([npm, "pack", package, "--silent"], cwd=scratch, capture_output=True, text=True)
            if packed.returncode != 0:
                print(f"Data Docs assets: npm pack {package} failed ({packed.stderr.strip()[-200:]}); Data Docs will "
                      "render unstyled offline", file=sys.stderr)
                return 0
            with tarfile.open(Path(scratch) / packed.stdout.strip().splitlines()[-1]) as archive:
                archive.extractall(Path(scratch) / _folder(package), filter="data")
            shutil.move(str(Path(scratch) / _folder(package) / "package"), target / _folder(package))
    print(f"Data Docs assets: {len(missing)} package(s) into {target}", file=sys.stderr)
    return 0


def localise(site: Path, assets: Path = ASSETS_DIR) -> bool:
    """Point the site's pages at a copy of the assets inside it. False (and the pages unchanged) when the
    assets were never fetched."""
    if not all((assets / _folder(package) / "package.json").exists() for package in PACKAGES):
        log.warning("Data Docs render unstyled offline: the assets are not fetched (make install, with npm)")
        return False
    vendor = site / "static" / VENDOR
    for package, files in PACKAGES.items():
        # only the files the pages load, and the fonts Font Awesome's CSS finds beside it (the packages
        # are tens of MB; each home's site needs a few)
        for path in [*files.values(), *(["webfonts"] if "fontawesome" in package else [])]:
            source, copy = assets / _folder(package) / path, vendor / _folder(package) / path
            if copy.exists():
                continue
            copy.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, copy)
            else:
                shutil.copy2(source, copy)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        prefix = "/".join([".."] * (len(page.relative_to(site).parts) - 1)) or "."
        for package, files in PACKAGES.items():
            for url, path in files.items():
                text = text.replace(url, f"{prefix}/static/{VENDOR}/{_folder(package)}/{path}")
        page.write_text(text, encoding="utf-8")
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["fetch"]:
        sys.exit(fetch())
    sys.exit("usage: python -m expectations.data_docs_assets fetch")

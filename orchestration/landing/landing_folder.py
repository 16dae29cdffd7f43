"""What the landing folder holds: every entry under it, each either a file to land or a recorded reason
why it is not landed. Nothing in the folder is passed over without a record.

Rules (README, "Landing"):
- data files sit in a table folder, `<landing>/<table>/...` (sub-folders of a table folder count too);
- options files (`_options.toml`, `<file>.options.toml`) and `SOURCE.md` are settings, not data;
- hidden entries (names starting with `.`) are not landed: a hidden data file (`..csv`,
  `.deals.parquet`) is rejected, so its rows are not lost unseen; other hidden files (`.DS_Store`,
  editor locks) are recorded as ignored;
- a symbolic link is followed only to a regular file inside the landing folder; one pointing outside
  it, or to a folder, is rejected and not read;
- names that are not valid UTF-8 are landed all the same, and shown with their bytes escaped
  (`kunder-\\xe6\\xf8\\xe5.csv`).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .contract import CONTRACTS
from .file_options import FORMAT_BY_SUFFIX, data_suffix, is_options_file

NOT_DATA_FILES = {"SOURCE.md"}


@dataclass(frozen=True)
class LandingEntry:
    """One entry of the landing folder. `problem` set: rejected with that reason; `ignored` set:
    recorded and passed over; neither: a file to land."""

    path: Path
    relative: str
    table_name: str | None
    problem: str | None = None
    ignored: str | None = None


def display_name(relative: str) -> str:
    """A path as it can be printed and stored: bytes that are not UTF-8 escaped as \\xNN."""
    return os.fsencode(relative).decode("utf-8", errors="backslashreplace")


def is_utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _looks_like_data(name: str) -> bool:
    return data_suffix(name) in FORMAT_BY_SUFFIX


def _table_of(parts: tuple[str, ...]) -> str | None:
    return parts[0] if len(parts) > 1 else None


def _entry(landing_dir: Path, path: Path, problem: str | None = None, ignored: str | None = None) -> LandingEntry:
    parts = path.relative_to(landing_dir).parts
    return LandingEntry(path, display_name(path.relative_to(landing_dir).as_posix()), _table_of(parts), problem, ignored)


def _classify_link(landing_dir: Path, path: Path) -> str | None:
    """The reason a symbolic link is not followed, or None when it points at a file inside the folder."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return f"symbolic link to {display_name(os.readlink(path))}, which does not exist; not followed"
    if target.is_dir():
        return f"symbolic link to the folder {display_name(str(target))}; links to folders are not followed"
    if not target.is_relative_to(landing_dir):
        return (f"symbolic link to {display_name(str(target))}, outside the landing folder; not followed "
                "(copy the file into the landing folder to land it)")
    return None


def landing_entries(landing_dir: Path) -> list[LandingEntry]:
    """Every entry under `landing_dir` (resolved), in table order of the contract, then by name, so the
    later file of a table wins ties."""
    entries: list[LandingEntry] = []
    for folder, subfolders, files in os.walk(landing_dir, followlinks=False):
        folder_path = Path(folder)
        for name in sorted(subfolders):
            path = folder_path / name
            if path.is_symlink():
                entries.append(_entry(landing_dir, path, problem=_classify_link(landing_dir, path)))
            elif name.startswith("."):
                held = [file for _, _, names in os.walk(path) for file in names]
                if any(_looks_like_data(file) for file in held):
                    entries.append(_entry(landing_dir, path, problem=(
                        f"hidden folder holding {len(held)} file(s); not landed: rename it (without the leading '.') to land them")))
                else:
                    entries.append(_entry(landing_dir, path, ignored="hidden folder"))
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and not (folder_path / name).is_symlink()]
        for name in files:
            path = folder_path / name
            if is_options_file(path) or name in NOT_DATA_FILES:
                continue
            if name.startswith("."):
                if _looks_like_data(name):
                    entries.append(_entry(landing_dir, path, problem=(
                        "hidden file (its name starts with '.'); not landed: rename it to land it")))
                else:
                    entries.append(_entry(landing_dir, path, ignored="hidden file"))
                continue
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                problem = _classify_link(landing_dir, path)
                entries.append(_entry(landing_dir, path, problem=problem))
            elif not stat.S_ISREG(mode):
                entries.append(_entry(landing_dir, path, problem="not a regular file (a pipe, socket or device); not read"))
            else:
                entries.append(_entry(landing_dir, path))
    table_order = {name: index for index, name in enumerate(CONTRACTS)}
    return sorted(entries, key=lambda entry: (table_order.get(entry.table_name or "", len(table_order)), entry.relative))

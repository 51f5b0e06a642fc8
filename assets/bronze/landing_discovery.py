"""Finding the files waiting in LANDING_ROOT: the sources' folders, what is passed over (never silently),
and how long a file must rest before it is landed.
"""

from __future__ import annotations

import os
from pathlib import Path

from assets.bronze.landing_files import FileRefused
from assets.plant.config import PlantConfig, Source

# Files still being written by the exporting system, by their usual temporary names.
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")


# A file must be this old, and its size unchanged since the last tick, before it is landed: an export
# still being written is left for a later tick (the landing sensor, and every landing run).
DEFAULT_SETTLE_SECONDS = 30.0


def settle_seconds() -> float:
    return float(os.environ.get("LANDING_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def discover_files(landing_root: Path, source: Source) -> tuple[list[Path], list[str]]:
    """The files waiting in a source's folder, and notes on anything that was passed over (never silently)."""
    base = (landing_root / source.folder).resolve()
    root = landing_root.resolve()
    found: list[Path] = []
    notes: list[str] = []
    if not base.is_relative_to(root):
        return [], [f"{source.folder}: the folder leaves LANDING_ROOT; nothing read"]
    if not base.is_dir():
        return [], [
            f"{source.folder}/: the folder of source {source.name} does not exist under LANDING_ROOT; nothing read"
        ]
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = display_name(path.relative_to(root).as_posix())
            if name.startswith("."):
                continue
            if name.lower().endswith(PARTIAL_SUFFIXES):
                notes.append(f"{rel}: still being written (temporary name), left for the next run")
                continue
            if path.is_symlink():
                try:
                    leaves = not path.resolve().is_relative_to(root)
                except OSError:
                    notes.append(f"{rel}: replaced while it was listed; left for the next run")
                    continue
                if leaves:
                    notes.append(f"{rel}: a link that leaves LANDING_ROOT; not read")
                else:
                    # landing opens no link (see open_landing_file): the file it points to lands where it lies
                    notes.append(f"{rel}: a link; landing reads no links (the file it points to lands where it lies)")
                continue
            found.append(path)
    return found, notes


def local_version(stat: os.stat_result) -> str:
    """A local file's version: device, inode and change time. Writing the file or replacing it (even
    with the same size and a preserved modification time) changes at least one of them."""
    return f"inode:{stat.st_dev}:{stat.st_ino}:{stat.st_ctime_ns}"


def _within(path: Path, landing_root: Path) -> Path:
    """The file's path under LANDING_ROOT's real path. Discovery's paths are real already; another is
    taken from its folder's real path. The file itself is never followed (it may be a link put in its
    place); FileRefused if the path leads out of LANDING_ROOT."""
    root = landing_root.resolve()
    if not (path.is_absolute() and path.is_relative_to(root) and ".." not in path.parts):
        path = path.parent.resolve() / path.name
    if not path.is_relative_to(root):
        raise FileRefused("its folder leads out of LANDING_ROOT; not read")
    return path


def _relative(path: Path, landing_root: Path) -> str:
    """The file's path relative to LANDING_ROOT (see _within). Bytes of a name that are not UTF-8 are
    shown as \\xNN."""
    return display_name(_within(path, landing_root).relative_to(landing_root.resolve()).as_posix())


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by Python as lone surrogates, which no table,
    log or terminal takes) are shown as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def source_folders_hint(config: PlantConfig) -> str:
    """Where a file in no source's folder could go: each source's folder and format."""
    return "; it could go in: " + ", ".join(f"{s.folder.strip('/')}/ ({s.format})" for s in config.sources)


def _unclaimed(landing_root: Path, claimed: set[Path], hint: str = "") -> list[str]:
    """Files in LANDING_ROOT that no source reads: reported, so that none is dropped without a word."""
    notes = []
    if not landing_root.is_dir():
        return notes
    root = landing_root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            link = Path(dirpath) / name
            rel = display_name(link.relative_to(root).as_posix())
            if name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES):
                continue
            try:
                path = link.resolve()
            except OSError:
                continue  # replaced while it was listed (a link swapped in or out): the next run sees it
            if not path.is_relative_to(root):
                notes.append(f"{rel}: a link that leaves LANDING_ROOT; not read")
            elif path not in claimed:
                notes.append(f"{rel}: in no source's folder; not read{hint}")
    return sorted(set(notes))

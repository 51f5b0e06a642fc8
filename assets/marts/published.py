"""The published marts file: where it is (beside the tables of a local lakehouse, or
`$LAKEHOUSE_ROOT/marts/marts.duckdb` with a cached copy on this machine), fetching it, and the DuckDB
storage format it is written in."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

from assets.storage import delta, object_store

MARTS_FILE = "marts.duckdb"
# The marts file is written in the storage format of DuckDB 1.4 (the long-term-support line many
# analysts still run), so DuckDB 1.4, 1.5 and newer (the duckdb command-line client on PyPI) open it.
STORAGE_VERSION = "v1.4.0"


def marts_path(lakehouse_root: str) -> Path:
    """The local marts file: the published one beside the tables of a local lakehouse, or this
    machine's cached copy of a lakehouse in object storage (see `fetch_published_marts`)."""
    root = delta.normalise_root(lakehouse_root)
    if not delta.is_local(root):
        return marts_cache_dir(root) / MARTS_FILE
    return Path(root.removeprefix("file://")) / MARTS_FILE


def marts_uri(lakehouse_root: str) -> str:
    """Where the marts are published: the local file, or `$LAKEHOUSE_ROOT/marts/marts.duckdb`."""
    root = delta.normalise_root(lakehouse_root)
    if not delta.is_local(root):
        return f"{root}/marts/{MARTS_FILE}"
    return str(marts_path(root))


def marts_cache_dir(lakehouse_root: str) -> Path:
    """This machine's folder for the marts of a remote lakehouse ($XDG_CACHE_HOME/iiot-lakehouse/<root>)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "iiot-lakehouse"
    digest = hashlib.sha256(delta.normalise_root(lakehouse_root).encode()).hexdigest()[:16]
    return base / f"marts-{digest}"


def fetch_published_marts(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> Path:
    """The published marts as a local file: a remote lakehouse's file is downloaded into the cache
    (replacing the cached copy atomically), a local one is returned where it is."""
    target = marts_path(lakehouse_root)
    uri = marts_uri(lakehouse_root)
    if object_store.is_remote(uri) and object_store.exists(uri, storage_options or {}):
        object_store.download(uri, target, storage_options or {})
    return target


def published_marts_exist(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> bool:
    """Whether the published marts file is there (in object storage for a remote lakehouse)."""
    uri = marts_uri(lakehouse_root)
    return object_store.exists(uri, storage_options or {}) if object_store.is_remote(uri) else Path(uri).is_file()


def storage_version(marts_file: Path) -> str | None:
    """The storage format a DuckDB file was written with (e.g. 'v1.5.0')."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        rows = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
        ).fetchall()
    finally:
        con.close()
    version = rows[0][0] if rows else None
    return version.rstrip("+") if version else None

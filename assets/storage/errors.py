"""Failures that retrying cannot fix, told in the words an operator acts on.

A full disk, a read-only file system, an exhausted quota or a corrupt Delta log fail the same way on
the next attempt: a step that meets one fails at once, and the message names the cause and the place
("no space left on device while writing .../silver__machine_states"), not "Exceeded max_retries".

The errors come from several layers that each word them their own way: Python's OSError (errno), the
Rust Delta writer ("No space left on device (os error 28)", "kind: ReadOnlyFilesystem") and DuckDB
('Could not write file "...": No space left on device'). Each is recognised from its text as well as
its errno, so that a chain of wrapped errors (or its serialised form in a run's event log) is read
the same way.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

# errno -> how it is said, and the texts by which each layer reports it
STORAGE_ERRNOS: dict[int, str] = {
    errno.ENOSPC: "no space left on device",
    errno.EROFS: "read-only file system",
    errno.EDQUOT: "disk quota exceeded",
}
_STORAGE_TEXTS: dict[int, re.Pattern[str]] = {
    errno.ENOSPC: re.compile(
        rf"no space left on device|os error {errno.ENOSPC}\b|\bStorageFull\b|\[errno {errno.ENOSPC}\]", re.I
    ),
    errno.EROFS: re.compile(
        rf"read-only file system|os error {errno.EROFS}\b|\bReadOnlyFilesystem\b|\[errno {errno.EROFS}\]", re.I
    ),
    errno.EDQUOT: re.compile(
        rf"disk quota exceeded|os error {errno.EDQUOT}\b|\bFilesystemQuotaExceeded\b|\[errno {errno.EDQUOT}\]",
        re.I,
    ),
}
# the file a layer names in its message: DuckDB quotes it, delta-rs and Python put it after a colon
_QUOTED_FILE = re.compile(r'file "([^"]+)"')
_PYTHON_FILE = re.compile(r"\[Errno \d+\] [^:]+: '([^']+)'")
_DELTA_DIRECTORY = re.compile(r"local directory: (\S+)")

# delta-rs (the kernel) on a log entry that is not valid JSON, or a version missing from the log
_CORRUPT_LOG_TEXT = re.compile(
    r"Json error|Truncated record|Invalid JSON|Expected contiguous commit files|Failed to parse .*_delta_log", re.I
)
_LOG_ENTRY = re.compile(r"^(\d{20})\.json$")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what caused it, then what that was raised while handling, and so on."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def storage_errno(text: str, code: int | None = None) -> int | None:
    """ENOSPC, EROFS or EDQUOT when an error (its errno, or else its text) is one of them."""
    if code in STORAGE_ERRNOS:
        return code
    for candidate, pattern in _STORAGE_TEXTS.items():
        if pattern.search(text):
            return candidate
    return None


def _file_named(text: str, filename: str | None) -> str | None:
    if filename:
        return str(filename)
    for pattern in (_QUOTED_FILE, _PYTHON_FILE, _DELTA_DIRECTORY):
        found = pattern.search(text)
        if found:
            return found.group(1)
    return None


def describe_storage_error(text: str, code: int | None = None, filename: str | None = None, writing=None) -> str | None:
    """'no space left on device while writing PATH' (or read-only file system, or quota) for an error
    that is one of those; None for any other. PATH is the file the error names, or else `writing`."""
    found = storage_errno(text, code)
    if found is None:
        return None
    where = _file_named(text, filename) or writing
    if found == errno.EROFS:
        return f"read-only file system: cannot write {where}" if where else "read-only file system"
    return f"{STORAGE_ERRNOS[found]} while writing {where}" if where else STORAGE_ERRNOS[found]


def is_corrupt_log_text(text: str) -> bool:
    """Whether a Delta error reads like a damaged transaction log (an entry not JSON, a version missing)."""
    return bool(_CORRUPT_LOG_TEXT.search(text))


def corrupt_delta_logs(lakehouse_root: str | Path) -> list[tuple[str, int, str]]:
    """(table, version, problem) for every local Delta table under the root whose log is damaged: an
    entry after the last checkpoint that is not valid JSON, or a version missing between two others."""
    root = Path(str(lakehouse_root).removeprefix("file://"))
    problems: list[tuple[str, int, str]] = []
    if not root.is_dir():
        return problems
    # the gold tables lie one folder deeper (gold/<mart>): named by that path
    for log in sorted([*root.glob("*/_delta_log"), *root.glob("*/*/_delta_log")]):
        table = log.parent.relative_to(root).as_posix()
        versions = sorted(int(m.group(1)) for name in os.listdir(log) if (m := _LOG_ENTRY.match(name)))
        if not versions:
            continue
        first = _last_checkpoint(log) or versions[0]
        have = set(versions)
        missing = [v for v in range(first, versions[-1] + 1) if v not in have]
        if missing:
            problems.append((table, missing[0], "missing"))
            continue
        for version in (v for v in versions if v >= first):
            try:
                text = (log / f"{version:020d}.json").read_text(encoding="utf-8")
                for line in text.splitlines():
                    if line.strip():
                        json.loads(line)
            except (OSError, UnicodeDecodeError, ValueError):
                problems.append((table, version, "not valid JSON"))
                break
    return problems


def _last_checkpoint(log: Path) -> int | None:
    try:
        return int(json.loads((log / "_last_checkpoint").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def describe_corrupt_log(text: str, lakehouse_root: str | Path | None) -> str | None:
    """'corrupt Delta log of TABLE (version N is not valid JSON)' for an error that reads like a damaged
    log; the table is found by checking the logs under the lakehouse root (a remote root: not named)."""
    if not is_corrupt_log_text(text):
        return None
    found = corrupt_delta_logs(lakehouse_root) if lakehouse_root is not None else []
    if not found:
        first = text.strip().splitlines()[0] if text.strip() else "unreadable"
        return f"corrupt Delta log: {first}"
    return "; ".join(
        f"corrupt Delta log of {table} (version {version} is {problem})" for table, version, problem in found
    )


def unretryable_cause(exc: BaseException, writing: str | None = None, lakehouse_root: str | None = None) -> str | None:
    """The root cause of an exception when no retry can fix it (a full disk, a read-only file system,
    an exhausted quota, a corrupt Delta log), as the sentence to show; None when a retry may help."""
    for error in _chain(exc):
        text = str(error)
        cause = describe_storage_error(text, getattr(error, "errno", None), getattr(error, "filename", None), writing)
        if cause is not None:
            return cause
    for error in _chain(exc):
        cause = describe_corrupt_log(str(error), lakehouse_root)
        if cause is not None:
            return cause
    return None

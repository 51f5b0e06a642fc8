"""Compressed exports (`.gz`, `.zip`) read in place, with limits that refuse a decompression bomb.

Nothing is unpacked to disk: every member is decompressed as it is read. Limits, each with a reason a
plant engineer can act on:

* total uncompressed size of a file or of all members of a zip (`max_total_bytes`, default 8 GiB);
* compression ratio (`max_ratio`, default 200:1), checked once more than 1 MiB has been decompressed,
  against the sizes a zip declares before anything is read and again against the bytes actually
  decompressed (a zip may lie about its sizes; a gzip does not declare one that can be trusted);
* a zip member whose path is absolute or leaves its folder (`../x`, `C:\\x`) is refused, and so is a
  zip with no file inside.

A gzip that ends early (truncated upload) raises `FileRejected` from the read that meets the end, so a
reader stops there and landing keeps the rows read before.

`iter_members(path)` is what landing iterates: `(member_name, opener)` pairs, where opener() returns a
fresh binary stream. A plain file is one member named like the file; a `.gz` one member named without
`.gz`; a zip one member per file inside, in the archive's order.
"""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pyarrow as pa

from .csv_stream import FileRejected

MAX_TOTAL_BYTES = 8 << 30
MAX_RATIO = 200.0
RATIO_CHECK_AFTER = 1 << 20

Opener = Callable[[], pa.NativeFile]


def is_zip(path: Path) -> bool:
    return Path(path).name.lower().endswith(".zip")


def is_gzip(path: Path) -> bool:
    return Path(path).name.lower().endswith(".gz")


class _LimitedReader(io.RawIOBase):
    """Counts decompressed bytes; refuses past the size or ratio limit; turns a broken stream into FileRejected."""

    def __init__(
        self,
        inner,
        name: str,
        compressed_size: int,
        max_total_bytes: int,
        max_ratio: float,
        on_close: Callable[[], None] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self._inner = inner
        self._name = name
        self._compressed = max(compressed_size, 1)
        self._max_total = max_total_bytes
        self._max_ratio = max_ratio
        self._on_close = on_close
        self._problems = problems
        self.count = 0
        # Text after the last newline is held back until its line is complete: when the stream breaks,
        # a cut-off last line (`12.34` cut to `12.3`) must not be read as a good row.
        self._tail = bytearray()
        self._out = bytearray()
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._out and not self._ended:
            self._read_step(len(buffer))
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        del self._out[:n]
        return n

    def _read_step(self, size: int) -> None:
        try:
            # read1 hands over what one step decompresses, so a break loses nothing read before it
            read = getattr(self._inner, "read1", self._inner.read)
            data = read(size)
        except (EOFError, zlib.error, OSError, zipfile.BadZipFile) as exc:
            problem = f"{self._name}: compressed data is truncated or corrupt after {self.count} bytes: {exc}"
            if self._tail:
                problem += f" (the cut-off last line, {len(self._tail)} bytes, is not read)"
            if self._problems is None:
                raise FileRejected(problem) from None
            # End the stream at the last whole line: the rows before the break land, landing records it.
            if problem not in self._problems:
                self._problems.append(problem)
            self._tail.clear()
            self._ended = True
            return
        if not data:
            self._out += self._tail
            self._tail.clear()
            self._ended = True
            return
        self.count += len(data)
        if self.count > self._max_total:
            raise FileRejected(
                f"{self._name}: decompresses to more than {self._max_total} bytes (limit max_total_bytes)"
            )
        if self.count > RATIO_CHECK_AFTER and self.count / self._compressed > self._max_ratio:
            raise FileRejected(
                f"{self._name}: compression ratio above {self._max_ratio:g}:1 "
                f"({self.count} bytes from {self._compressed}); refused as a possible decompression bomb"
            )
        self._tail += data
        cut = self._tail.rfind(b"\n") + 1
        if cut:
            self._out += self._tail[:cut]
            del self._tail[:cut]

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.close()
            finally:
                if self._on_close is not None:
                    self._on_close()
        super().close()


def _wrap(raw: io.RawIOBase) -> pa.NativeFile:
    return pa.PythonFile(io.BufferedReader(raw, buffer_size=1 << 20), mode="r")


def open_gzip(
    path: Path, max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO, label: str | None = None
) -> Opener:
    """An opener of the decompressed content of a `.gz` file, within the limits (`label`: its name in messages)."""
    path = Path(path)
    label = label or path.name
    size = path.stat().st_size

    problems: list[str] = []

    def open_stream() -> pa.NativeFile:
        inner = gzip.open(path, "rb")
        return _wrap(_LimitedReader(inner, label, size, max_total_bytes, max_ratio, problems=problems))

    open_stream.problems = problems  # truncation or corruption met while reading, for the ledger
    return open_stream


def open_plain(path: Path) -> Opener:
    """An opener of an uncompressed file (seekable, as Parquet needs)."""
    path = Path(path)

    def open_stream() -> pa.NativeFile:
        return pa.OSFile(str(path), mode="r")

    open_stream.path = path  # a plain local file: a reader may hand it to DuckDB whole (see stage_source_file)
    return open_stream


def member_escapes(name: str) -> bool:
    """Whether a zip member's path is absolute or climbs out of the archive's folder."""
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return True
    return ".." in PurePosixPath(unified).parts


def check_zip(
    path: Path, max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO, label: str | None = None
) -> list[zipfile.ZipInfo]:
    """The file members of a zip, after refusing escaping paths and declared sizes beyond the limits."""
    path = Path(path)
    label = label or path.name
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected(f"{label}: not a readable zip archive: {exc}") from None
    members = []
    total = 0
    for info in infos:
        if member_escapes(info.filename):
            raise FileRejected(f"{label}: member {info.filename!r} leaves the archive's folder; archive refused")
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise FileRejected(f"{label}: member {info.filename!r} is encrypted")
        total += info.file_size
        if total > max_total_bytes:
            raise FileRejected(
                f"{label}: members decompress to more than {max_total_bytes} bytes (limit max_total_bytes)"
            )
        if info.file_size > RATIO_CHECK_AFTER and info.file_size / max(info.compress_size, 1) > max_ratio:
            raise FileRejected(
                f"{label}: member {info.filename!r} has a compression ratio above {max_ratio:g}:1 "
                f"({info.file_size} bytes from {info.compress_size}); refused as a possible decompression bomb"
            )
        members.append(info)
    if not members:
        raise FileRejected(f"{label}: the zip archive holds no file")
    return members


def _zip_opener(path: Path, info: zipfile.ZipInfo, max_total_bytes: int, max_ratio: float, label: str) -> Opener:
    problems: list[str] = []

    def open_stream() -> pa.NativeFile:
        archive = zipfile.ZipFile(path)
        try:
            inner = archive.open(info)
        except Exception:
            archive.close()
            raise
        limit = min(max_total_bytes, info.file_size)
        reader = _LimitedReader(
            inner,
            f"{label}!{info.filename}",
            info.compress_size,
            limit,
            max_ratio,
            on_close=archive.close,
            problems=problems,
        )
        if is_gzip(Path(info.filename)):
            # A .gz inside a zip: decompress once more, under the same limits.
            inner_gz = gzip.GzipFile(fileobj=io.BufferedReader(reader), mode="rb")
            return _wrap(
                _LimitedReader(
                    inner_gz,
                    f"{label}!{info.filename}",
                    info.compress_size,
                    max_total_bytes,
                    max_ratio,
                    problems=problems,
                )
            )
        return _wrap(reader)

    open_stream.problems = problems
    return open_stream


def iter_members(
    path: Path, max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO, name: str | None = None
) -> Iterator[tuple[str, Opener]]:
    """(member name, opener) for every file to read in `path`; FileRejected for a bomb or an escaping member.

    A zip is checked as a whole before its first member is yielded. `name` is the file's own name where
    `path` reads it through its open descriptor (/proc/self/fd/N): it tells a zip or gzip, and names it.
    """
    path = Path(path)
    label = name or path.name
    if is_zip(Path(label)):
        for info in check_zip(path, max_total_bytes, max_ratio, label):
            member = info.filename
            yield (
                (member[:-3] if is_gzip(Path(member)) else member),
                _zip_opener(path, info, max_total_bytes, max_ratio, label),
            )
    elif is_gzip(Path(label)):
        yield label[:-3], open_gzip(path, max_total_bytes, max_ratio, label)
    else:
        yield label, open_plain(path)


def open_single(path: Path, max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO) -> Opener:
    """The opener of a plain or gzip file, or of a zip that holds exactly one file."""
    members = list(iter_members(path, max_total_bytes, max_ratio))
    if len(members) != 1:
        raise FileRejected(f"{Path(path).name}: the archive holds {len(members)} files; read them as members")
    return members[0][1]

"""A bound on the length of one line of a text export (source option `max_line_bytes`).

A reader holds a whole line in memory (a 2 GB line took the pass down). `limit_lines(opener, limit)`
reads the file as it is, except that a line longer than the limit is passed on empty (its line break
kept, so every later line keeps its number); the opener records each such line's number and first bytes
in `overlong`, and landing quarantines them with the reason. At most `limit` bytes of a line are held.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pyarrow as pa

RAW_BYTES = 10_000  # the first bytes of an overlong line kept for its quarantine row


class _LineLimit(io.RawIOBase):
    def __init__(self, inner, limit: int, overlong: dict[int, bytes]) -> None:
        self._inner = inner
        self._limit = limit
        self._overlong = overlong
        self._line = 1  # the line the held bytes belong to
        self._held = bytearray()  # the current line's bytes, not passed on until its length is known
        self._skipping = False  # the current line is overlong: its bytes are dropped up to its line break
        self._out = bytearray()
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        # read() itself, not only readinto(): pyarrow reads this stream directly, and each copy saved counts
        while not self._out and not self._ended:
            data = self._inner.read(max(size, 1 << 20))
            if not data:
                if not self._skipping:
                    self._out += self._held
                self._held.clear()
                self._ended = True
            else:
                self._take(data)
        if size < 0 or size >= len(self._out):
            out = bytes(self._out)
            self._out.clear()
            return out
        out = bytes(self._out[:size])
        del self._out[:size]
        return out

    def _take(self, data: bytes) -> None:
        if not self._skipping and len(self._held) + len(data) <= self._limit:
            # no line can be longer than the limit here: pass on every whole line at once
            cut = data.rfind(b"\n") + 1
            if cut:
                view = memoryview(data)
                self._out += self._held
                self._out += view[:cut]
                self._held[:] = view[cut:]
                self._line += data.count(b"\n", 0, cut)
            else:
                self._held += data
            return
        start = 0
        while start < len(data):
            end = data.find(b"\n", start)
            piece = data[start:] if end < 0 else data[start:end]
            if not self._skipping:
                self._held += piece
                if len(self._held) > self._limit:
                    self._overlong.setdefault(self._line, bytes(self._held[:RAW_BYTES]))
                    self._held.clear()
                    self._skipping = True
            if end < 0:
                return
            if not self._skipping:
                self._out += self._held
            self._out += b"\n"
            self._held.clear()
            self._skipping = False
            self._line += 1
            start = end + 1

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


def limit_lines(opener: Callable[[], pa.NativeFile], limit: int) -> Callable[[], pa.NativeFile]:
    """An opener of the same stream with every line longer than `limit` bytes passed on empty (see above)."""
    overlong: dict[int, bytes] = {}

    def open_stream() -> pa.NativeFile:
        return pa.PythonFile(_LineLimit(opener(), limit, overlong), mode="r")

    open_stream.overlong = overlong
    if hasattr(opener, "problems"):
        open_stream.problems = opener.problems
    return open_stream

"""Quality texts of the streaming readers graded good / uncertain / bad, once per distinct text.

(AVEVA Historian's Quality and OPCQuality codes are graded by the macros of sql/bronze/row_rules.sql.)
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def map_text(values: pa.Array, fn) -> tuple[pa.Array, pa.Array]:
    """Apply `fn(text) -> (quality, reason)` once per distinct value of a column; two arrays back."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    distinct = pc.unique(values)
    results = [fn(v) for v in distinct.to_pylist()]
    index = pc.index_in(values, value_set=distinct)
    quality = pa.array([r[0] for r in results], pa.string()).take(index)
    reason = pa.array([r[1] for r in results], pa.string()).take(index)
    return quality, reason


def opc_quality(text: str | None, label: str) -> tuple[str | None, str | None]:
    """Quality words (Good*, Uncertain*, Bad*) and OPC codes (192-255 good, 64-127 uncertain, else bad)."""
    t = (text or "").strip()
    if t == "":
        return None, None
    low = t.lower()
    try:
        code = float(t)
    except ValueError:
        code = None
    if code is not None:
        if not code.is_integer():
            return None, f"{label} code not recognised: {t[:20]}"
        code = int(code)
        if 192 <= code <= 255:
            return "good", None
        if 64 <= code <= 127:
            return "uncertain", None
        return "bad", None
    if low.startswith("good"):
        return "good", None
    if low.startswith(("uncertain", "questionable", "doubtful", "substituted")):
        return "uncertain", None
    return "bad", None

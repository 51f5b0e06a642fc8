"""A source's freshness: when a file of it last landed (the file ledger's landed_at), and how late that is
against the source's expected_every in the plant YAML."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from assets.storage import delta, delta_read
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import FILE_LEDGER

__all__ = ["SourceFreshness", "last_landed", "source_freshness"]


def last_landed(lakehouse: Lakehouse) -> dict[str, dt.datetime]:
    """Per source, when its newest file landed. Only files that landed count: a rejected file or a copy of
    one landed before is no new data."""
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        return {}
    with delta_read.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        rows = con.sql("select source, max(landed_at) from ledger where status = 'landed' group by source").fetchall()
    return {source: landed.astimezone(dt.UTC) for source, landed in rows}


@dataclass(frozen=True)
class SourceFreshness:
    """A source's state at `now`: fresh, late (WARN: no file for longer than expected_every) or stale
    (ERROR: for longer than twice that, or none ever landed)."""

    source: str
    expected_every: dt.timedelta
    last_landed_at: dt.datetime | None
    now: dt.datetime

    @property
    def age(self) -> dt.timedelta | None:
        return None if self.last_landed_at is None else self.now - self.last_landed_at

    @property
    def state(self) -> str:
        age = self.age
        if age is None or age > 2 * self.expected_every:
            return "stale"
        return "late" if age > self.expected_every else "fresh"

    def describe(self) -> str:
        if self.last_landed_at is None:
            return f"no file of source {self.source!r} has landed (expected every {_span(self.expected_every)})"
        return (
            f"the newest file of source {self.source!r} landed {_span(self.age)} ago "
            f"(expected every {_span(self.expected_every)})"
        )


def source_freshness(
    sources: dict[str, dt.timedelta], landed: dict[str, dt.datetime], now: dt.datetime
) -> list[SourceFreshness]:
    """Each source with an expected_every, against the ledger's last landing (`last_landed`)."""
    return [SourceFreshness(name, every, landed.get(name), now) for name, every in sources.items()]


def _span(span: dt.timedelta | None) -> str:
    minutes = int((span or dt.timedelta()).total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"

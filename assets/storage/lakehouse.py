"""Where the lakehouse tables live: the root and its storage options, below every layer that reads or
writes a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assets.storage import delta


@dataclass(frozen=True)
class Lakehouse:
    """Where the lakehouse tables live: a root URI and the storage options to reach it."""

    root: str
    # credentials of an object store: kept out of repr, so that no log or error message shows them
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)

    def uri(self, table: str) -> str:
        return delta.table_uri(self.root, table)

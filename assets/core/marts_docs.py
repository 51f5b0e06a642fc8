"""The analysts' reference of the marts, written from the published file's own descriptions.

`python -m assets.core.marts_docs data/lakehouse/marts.duckdb > docs/marts.md` regenerates it; a
test keeps docs/marts.md in step with what the marts hold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from .marts import MARTS

INTRO = """# The marts: a reference for analysts

The pipeline publishes every mart as a table in `$LAKEHOUSE_ROOT/marts.duckdb`. The file is replaced
atomically on each publish, so open it read-only and keep it open as long as you like:

```bash
duckdb -readonly data/lakehouse/marts.duckdb
```

Conventions: times are in seconds (`*_s`), counts in units, energy in kWh; timestamps are
`timestamp with time zone` (UTC inside the file; set `SET TimeZone = 'Europe/Berlin'` to read them in
plant time); `day` is the production day, the plant-local date on which it starts. Ratios are NULL
where their denominator is 0. To roll up, sum times and counts and recompute the ratios; never
average percentages. The same descriptions are in the file (`select * from duckdb_columns()`).
"""


def render_marts_reference(marts_file: Path) -> str:
    """Markdown: each mart with its description, then its columns with type and description."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        parts = [INTRO]
        for mart in MARTS:
            rows = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where table_name = ? and schema_name = 'main' order by column_index",
                [mart.name],
            ).fetchall()
            parts.append(f"## `{mart.name}`\n\n{mart.description}\n\n| column | type | meaning |\n|---|---|---|")
            for name, dtype, comment in rows:
                parts.append(f"| `{name}` | {dtype} | {(comment or '').replace('|', '/')} |")
            parts.append("")
        return "\n".join(parts).rstrip() + "\n"
    finally:
        con.close()


if __name__ == "__main__":
    sys.stdout.write(render_marts_reference(Path(sys.argv[1])))

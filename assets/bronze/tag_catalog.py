"""The tag catalog: every tag that has landed, mapped or not, to help an engineer write the mapping.

Kept up to date incrementally from the points each landing adds, so its cost does not grow with the
history in bronze. Values changed by a later export replace a point and do not count again.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.plant.tags import model_tags_table
from assets.storage import delta, delta_read
from assets.storage.schemas import TAG_CATALOG
from assets.storage.sql_files import sql_file

_MERGE_SQL = "bronze/tag_catalog_merge.sql"


def update_tag_catalog(
    lakehouse_root: str,
    config: PlantConfig,
    new_stats: list[pa.Table],
    storage_options: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Fold the per-tag figures of newly landed points into the catalog; returns the catalog's tag count."""
    now = now or dt.datetime.now(dt.UTC)
    uri = delta.table_uri(lakehouse_root, TAG_CATALOG.name)
    stats = pa.concat_tables(new_stats) if new_stats else STATS_SCHEMA.empty_table()
    with delta_read.duckdb_session() as con:
        delta_read.register_table(con, "catalog", uri, TAG_CATALOG, storage_options=storage_options)
        con.register("new_stats", stats)
        con.register("model_tags", model_tags_table(config))
        table = con.sql(sql_file(_MERGE_SQL), params={"now": now}).to_arrow_table()
    delta.replace_all(uri, TAG_CATALOG, TAG_CATALOG.conform(table), storage_options)
    return table.num_rows


STATS_SCHEMA = pa.schema(
    [
        pa.field("tag", pa.string()),
        pa.field("source", pa.string()),
        pa.field("first_seen", pa.timestamp("us", tz="UTC")),
        pa.field("last_seen", pa.timestamp("us", tz="UTC")),
        pa.field("points", pa.int64()),
        pa.field("bad_points", pa.int64()),
        pa.field("uncertain_points", pa.int64()),
        pa.field("unit", pa.string()),
    ]
)

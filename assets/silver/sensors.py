"""Silver sensor intervals: step-held intervals of every numeric tag the machine model does not use
(condition monitoring), streamed in batches.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.plant.products import ORDER_TAG_PREFIX
from assets.plant.tags import model_tags_table
from assets.silver.modelling import day_params
from assets.silver.points import PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_SENSOR_INTERVALS
from assets.storage.sql_files import sql_file

# The model's SQL, with the rule it follows in its comments: sql/silver/sensor_intervals.sql.
_SENSOR_SQL = "silver/sensor_intervals.sql"


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def sensor_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """Every tag the machine model does not use, nor an earlier name of one, from sensor_max_gap_s
    before the day to its end: a value holds at most that long, so an earlier point cannot reach into
    the day."""
    return PointSelection(
        except_tags=tuple(model_tags_table(config)["tag"].to_pylist()),
        except_prefixes=(ORDER_TAG_PREFIX,),
        lookback=dt.timedelta(seconds=config.sensor_max_gap_s),
        lookahead=dt.timedelta(0),
        held=False,
        aliases=aliases.pairs,
    )


# Sensor intervals per batch: a 50-machine plant's 1 Hz sensors make about 17 M intervals a day, which
# stream from DuckDB to the Delta writer instead of being held whole.
SENSOR_BATCH_ROWS = 250_000


def model_sensor_intervals(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.RecordBatchReader:
    """Step-held intervals of every numeric tag the machine model does not use (condition monitoring),
    as a stream of batches in the table's schema, read while the connection is open."""
    # registered for as long as the connection lives: the stream reads it until its last batch
    con.register("model_tags", model_tags_table(config))
    reader = con.sql(
        sql_file(_SENSOR_SQL), params=day_params(config, day, window) | {"max_gap_s": config.sensor_max_gap_s}
    ).to_arrow_reader(batch_size=SENSOR_BATCH_ROWS)
    return pa.RecordBatchReader.from_batches(
        SILVER_SENSOR_INTERVALS.arrow_schema, (SILVER_SENSOR_INTERVALS.conform_batch(b) for b in reader)
    )

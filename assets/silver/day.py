"""One production day of a silver model: the bronze points its selection names, read into a DuckDB session,
and the model run over them. The silver assets and the benchmark both build a day through `modelled_day`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from assets.plant.calendar import production_day_window
from assets.plant.config import PlantConfig
from assets.silver.counts import count_points, model_count_increments
from assets.silver.energy import energy_points, model_energy
from assets.silver.points import PointSelection, register_points
from assets.silver.production_runs import model_orders, model_production_runs, production_points
from assets.silver.sensors import model_sensor_intervals, sensor_points
from assets.silver.states import machine_state_points, model_machine_states
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.silver.tag_quality import model_tag_quality, tag_quality_points
from assets.storage import delta_read
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import (
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_MACHINE_STATES,
    SILVER_ORDERS,
    SILVER_PRODUCTION_RUNS,
    SILVER_SENSOR_INTERVALS,
    SILVER_TAG_QUALITY,
    TableSpec,
)

Model = Callable[[duckdb.DuckDBPyConnection, PlantConfig, dt.date, tuple[dt.datetime, dt.datetime]], object]


@dataclass(frozen=True)
class SilverModel:
    """A silver table, the model that builds one production day of it, and the points it reads."""

    spec: TableSpec
    model: Model
    points: Callable[[PlantConfig, TagAliases], PointSelection]


MACHINE_STATES = SilverModel(SILVER_MACHINE_STATES, model_machine_states, machine_state_points)
COUNT_INCREMENTS = SilverModel(SILVER_COUNT_INCREMENTS, model_count_increments, count_points)
ENERGY_INCREMENTS = SilverModel(SILVER_ENERGY_INCREMENTS, model_energy, energy_points)
SENSOR_INTERVALS = SilverModel(SILVER_SENSOR_INTERVALS, model_sensor_intervals, sensor_points)
TAG_QUALITY = SilverModel(SILVER_TAG_QUALITY, model_tag_quality, tag_quality_points)
PRODUCTION_RUNS = SilverModel(SILVER_PRODUCTION_RUNS, model_production_runs, production_points)
ORDERS = SilverModel(SILVER_ORDERS, model_orders, production_points)
# every model of a production day, in the order the daily job builds them (the calendar comes first)
SILVER_MODELS = (
    MACHINE_STATES,
    COUNT_INCREMENTS,
    ENERGY_INCREMENTS,
    SENSOR_INTERVALS,
    TAG_QUALITY,
    PRODUCTION_RUNS,
    ORDERS,
)


@contextmanager
def modelled_day(
    lakehouse: Lakehouse, config: PlantConfig, day: dt.date, model: SilverModel, aliases: TagAliases = NO_ALIASES
) -> Iterator[pa.Table | pa.RecordBatchReader]:
    """The model's rows for the day: a table, or a stream of batches read while the session is open."""
    window = production_day_window(config, day)
    with delta_read.duckdb_session() as con:
        register_points(con, lakehouse, config, window, model.points(config, aliases))
        yield model.model(con, config, day, window)

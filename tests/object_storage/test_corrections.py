"""A corrected value in a later export replaces the landed point in bronze on object storage, and the
table stays readable with filters afterwards (DuckDB over a pyarrow dataset, as silver reads a remote
lakehouse, and pyarrow's own filtered read, as an analyst would)."""

from __future__ import annotations

import time

import pytest
from deltalake import DeltaTable

from assets.bronze.landing import KnownFiles, Lakehouse
from assets.bronze.remote_landing import land_remote_files
from assets.plant.config import parse_plant_config
from assets.storage import delta_read, object_store
from assets.storage.schemas import BRONZE_POINTS
from tests.helpers.exports import HEADER, aveva_row
from tests.helpers.plant import one_machine_config

pytestmark = pytest.mark.s3


def test_a_later_export_replaces_a_point_on_object_storage_and_filters_still_read(s3_server, tmp_path):
    options = s3_server.options()
    prefix = s3_server.prefix()
    landing = f"{prefix}/landing"
    lakehouse = Lakehouse(f"{prefix}/lakehouse", storage_options=options)
    config = parse_plant_config(one_machine_config())
    known = KnownFiles()

    first = tmp_path / "first.csv"
    first.write_text(
        HEADER
        + "".join(aveva_row(f"2026-03-02 {h:02d}:00:00", "L1.FILLER.Total", 100 * h) for h in (6, 7, 8))
        + aveva_row("2026-03-02 06:00:00", "L1.OTHER", 1),
        encoding="utf-8",
    )
    object_store.upload(first, f"{landing}/historian/first.csv", options)
    other = tmp_path / "other.csv"
    other.write_text(HEADER + aveva_row("2026-03-02 06:00:00", "L1.ZED", 1), encoding="utf-8")
    object_store.upload(other, f"{landing}/historian/other.csv", options)
    reports, _ = land_remote_files(lakehouse, config, landing, known)
    assert sorted((r.source_file, r.rows_new) for r in reports) == [
        ("historian/first.csv", 4),
        ("historian/other.csv", 1),
    ]

    time.sleep(1.1)  # S3 dates objects to the second: the correction is a later export
    correction = tmp_path / "correction.csv"
    correction.write_text(HEADER + aveva_row("2026-03-02 07:00:00", "L1.FILLER.Total", 777), encoding="utf-8")
    object_store.upload(correction, f"{landing}/historian/correction.csv", options)
    reports, _ = land_remote_files(lakehouse, config, landing, known)
    (fixed,) = [r for r in reports if r.source_file == "historian/correction.csv"]
    assert (fixed.rows_in, fixed.rows_new, fixed.rows_changed) == (1, 0, 1)

    uri = lakehouse.uri(BRONZE_POINTS.name)
    with delta_read.duckdb_session() as con:
        delta_read.register_table(con, "points", uri, BRONZE_POINTS, storage_options=options)
        # 07:00 CET is 06:00 UTC; the tag filter is pushed into the pyarrow scan, and the rewritten file
        # holds two tags, so its statistics alone do not answer it
        rows = con.sql(
            "select hour(ts), value, source_file from points where tag = 'L1.FILLER.Total' order by ts"
        ).fetchall()
    assert rows == [
        (5, 600.0, "historian/first.csv"),
        (6, 777.0, "historian/correction.csv"),
        (7, 800.0, "historian/first.csv"),
    ]
    filtered = DeltaTable(uri, storage_options=options).to_pyarrow_table(filters=[("tag", "=", "L1.FILLER.Total")])
    assert sorted(filtered["value"].to_pylist()) == [600.0, 777.0, 800.0]

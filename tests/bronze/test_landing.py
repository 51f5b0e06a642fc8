"""Landing: the ledger, deduplication, quarantine with line numbers, DST, compressed files."""

from __future__ import annotations

import datetime as dt
import gzip
import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from assets.bronze.landing import Lakehouse, land_new_files
from assets.plant.config import parse_plant_config
from assets.storage.schemas import FILE_LEDGER
from tests.helpers.exports import HEADER, write_aveva
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config


@pytest.fixture
def env(tmp_path):
    config = parse_plant_config(one_machine_config())
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    (landing / "historian").mkdir(parents=True)
    return config, lakehouse, landing


def table(lakehouse: Lakehouse, name: str, sql: str = "select * from t") -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", DeltaTable(lakehouse.uri(name)).to_pyarrow_dataset())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def six_rows(start_hour: int) -> list[str]:
    return [r(f"2026-03-02 {start_hour + i:02d}:00:00", "L1.FILLER.Total", 100 * (start_hour + i)) for i in range(6)]


def test_the_same_file_twice_lands_once_and_a_copy_under_another_name_is_recognised(env):
    config, lakehouse, landing = env
    write_aveva(landing / "historian" / "a.csv", six_rows(6))
    first = land_new_files(lakehouse, config, landing)
    assert [(f.status, f.rows_in, f.rows_new) for f in first.files] == [("landed", 6, 6)]

    again = land_new_files(lakehouse, config, landing)
    assert [f.status for f in again.files] == ["skipped"]
    assert table(lakehouse, "bronze__file_ledger", "select count(*) from t") == [(1,)]

    (landing / "historian" / "copy.csv").write_bytes((landing / "historian" / "a.csv").read_bytes())
    copy = land_new_files(lakehouse, config, landing)
    seen = [f for f in copy.files if f.status != "skipped"]
    assert [(f.source_file, f.status, f.message, f.rows_in) for f in seen] == [
        ("historian/copy.csv", "duplicate", "same content as historian/a.csv, landed before", 0)
    ]
    assert table(lakehouse, "bronze_historian__points", "select count(*) from t") == [(6,)]
    assert table(lakehouse, "bronze__file_ledger", "select source_file, status from t order by 1") == [
        ("historian/a.csv", "landed"),
        ("historian/copy.csv", "duplicate"),
    ]


def test_a_file_rewritten_with_the_same_size_and_modification_time_is_read_again(env):
    """`cp -p` or `touch -r` keep a file's size and modification time; its change time moves on."""
    config, lakehouse, landing = env
    path = write_aveva(landing / "historian" / "a.csv", six_rows(6))  # 06:00 .. 11:00
    stamp = path.stat().st_mtime_ns
    assert [(f.status, f.rows_new) for f in land_new_files(lakehouse, config, landing).files] == [("landed", 6)]

    # the same bytes but the last hour: 11:00 becomes 12:00, so the file keeps its size
    rows = six_rows(6)
    rows[-1] = r("2026-03-02 12:00:00", "L1.FILLER.Total", 1100)
    rewritten = (HEADER + "".join(rows)).encode()
    assert len(rewritten) == path.stat().st_size
    with open(path, "r+b") as handle:  # in place: same inode, same size
        handle.write(rewritten)
    os.utime(path, ns=(stamp, stamp))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (len(rewritten), stamp)

    (again,) = land_new_files(lakehouse, config, landing).files
    # 5 rows are points landed before, 1 (12:00) is new: nothing skipped unread
    assert (again.status, again.rows_in, again.rows_new, again.rows_duplicate) == ("landed", 6, 1, 5)
    assert table(lakehouse, "bronze_historian__points", "select count(*) from t") == [(7,)]
    # and untouched since, it is known without being read: no hash in the report
    (third,) = land_new_files(lakehouse, config, landing).files
    assert (third.status, third.file_sha256) == ("skipped", "")


def test_a_ledger_written_before_file_versions_gains_the_column(env, tmp_path):
    config, lakehouse, landing = env
    write_aveva(landing / "historian" / "a.csv", six_rows(6))
    land_new_files(lakehouse, config, landing)
    uri = lakehouse.uri("bronze__file_ledger")
    # the ledger as an earlier release wrote it: without the file_version column
    old_schema = pa.schema([f for f in FILE_LEDGER.arrow_schema if f.name != "file_version"])
    rows = table(lakehouse, "bronze__file_ledger", f"select {', '.join(old_schema.names)} from t")
    ledger = pa.Table.from_pylist([dict(zip(old_schema.names, row, strict=True)) for row in rows], old_schema)
    write_deltalake(uri, ledger, mode="overwrite", schema_mode="overwrite")
    assert "file_version" not in DeltaTable(uri).schema().to_arrow().names

    write_aveva(landing / "historian" / "b.csv", six_rows(12))
    result = land_new_files(lakehouse, config, landing)
    # a.csv has no recorded version, so it is hashed and recognised by its content; b.csv lands
    assert sorted((f.source_file, f.status, f.rows_new) for f in result.files) == [
        ("historian/a.csv", "skipped", 0),
        ("historian/b.csv", "landed", 6),
    ]
    assert [f.file_sha256 != "" for f in sorted(result.files, key=lambda f: f.source_file)] == [True, True]
    assert table(lakehouse, "bronze__file_ledger", "select source_file, file_version is null from t order by 1") == [
        ("historian/a.csv", True),
        ("historian/b.csv", False),
    ]


def test_an_overlapping_export_adds_only_the_points_not_yet_landed(env):
    config, lakehouse, landing = env
    write_aveva(landing / "historian" / "morning.csv", six_rows(6))  # 06:00 .. 11:00
    land_new_files(lakehouse, config, landing)
    write_aveva(landing / "historian" / "midday.csv", six_rows(9))  # 09:00 .. 14:00, 3 overlap
    result = land_new_files(lakehouse, config, landing)
    (midday,) = [f for f in result.files if f.status == "landed"]
    assert (midday.rows_in, midday.rows_new, midday.rows_duplicate, midday.rows_quarantined) == (6, 3, 3, 0)
    assert table(lakehouse, "bronze_historian__points", "select count(*), count(distinct ts) from t") == [(9, 9)]


def test_an_export_after_the_landed_span_on_the_same_date_is_all_new_and_its_edge_is_still_checked(env):
    config, lakehouse, landing = env
    write_aveva(landing / "historian" / "morning.csv", six_rows(6))  # 06:00 .. 11:00
    land_new_files(lakehouse, config, landing)
    # 12:00 .. 17:00 on the same date: no landed point in its span, so all six are new
    write_aveva(landing / "historian" / "afternoon.csv", six_rows(12))
    (afternoon,) = [f for f in land_new_files(lakehouse, config, landing).files if f.status == "landed"]
    assert (afternoon.rows_in, afternoon.rows_new, afternoon.rows_duplicate) == (6, 6, 0)
    # 17:00 .. 22:00: its first point is the last one landed, and is found again at the span's edge
    write_aveva(landing / "historian" / "evening.csv", six_rows(17))
    (evening,) = [f for f in land_new_files(lakehouse, config, landing).files if f.status == "landed"]
    assert (evening.rows_in, evening.rows_new, evening.rows_duplicate) == (6, 5, 1)
    assert table(lakehouse, "bronze_historian__points", "select count(*), count(distinct ts) from t") == [(17, 17)]


def exported(path, hour: int):
    """Give an export file a modification time: 2026-03-03 at the hour, UTC."""
    stamp = dt.datetime(2026, 3, 3, hour, tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_a_later_export_changes_a_landed_value_and_an_earlier_one_does_not(env):
    config, lakehouse, landing = env
    exported(write_aveva(landing / "historian" / "a.csv", [r("2026-03-02 06:00:00", "L1.FILLER.Total", 100)]), 8)
    land_new_files(lakehouse, config, landing)
    exported(write_aveva(landing / "historian" / "b.csv", [r("2026-03-02 06:00:00", "L1.FILLER.Total", 999)]), 9)
    (b,) = [f for f in land_new_files(lakehouse, config, landing).files if f.status == "landed"]
    assert (b.rows_in, b.rows_new, b.rows_changed, b.rows_duplicate, b.rows_quarantined) == (1, 0, 1, 0, 0)
    assert table(lakehouse, "bronze_historian__points", "select value, source_file from t") == [
        (999.0, "historian/b.csv")
    ]
    # an export older than the landed value arrives late: it does not win, and says why
    exported(write_aveva(landing / "historian" / "old.csv", [r("2026-03-02 06:00:00", "L1.FILLER.Total", 5)]), 7)
    (old,) = [f for f in land_new_files(lakehouse, config, landing).files if f.status == "landed"]
    assert (old.rows_in, old.rows_changed, old.rows_quarantined) == (1, 0, 1)
    (reason,) = table(lakehouse, "bronze__quarantine", "select reason from t where source_file = 'historian/old.csv'")
    assert reason[0] == (
        "superseded: a later export (historian/b.csv line 2, exported 2026-03-03 09:00:00 UTC) gave this tag "
        "and time: value 5.0 (good) vs 999.0 (good)"
    )
    assert table(lakehouse, "bronze_historian__points", "select count(*), max(value) from t") == [(1, 999.0)]


def test_a_correction_rewrites_only_the_file_holding_the_point_and_bronze_stays_readable_with_filters(env):
    config, lakehouse, landing = env
    exported(write_aveva(landing / "historian" / "morning.csv", six_rows(6)), 8)  # 06:00 .. 11:00
    land_new_files(lakehouse, config, landing)
    other = [r("2026-03-02 06:00:00", "L1.OTHER", 1), r("2026-03-02 07:00:00", "L1.OTHER", 2)]
    exported(write_aveva(landing / "historian" / "other.csv", other), 8)
    land_new_files(lakehouse, config, landing)
    bronze = lakehouse.uri("bronze_historian__points")
    before = {uri: _row_count(uri) for uri in DeltaTable(bronze).file_uris()}
    assert sorted(before.values()) == [2, 6]
    # a later export corrects 08:00 (800 -> 999) and adds 12:00
    correction = [r("2026-03-02 08:00:00", "L1.FILLER.Total", 999), r("2026-03-02 12:00:00", "L1.FILLER.Total", 1200)]
    exported(write_aveva(landing / "historian" / "correction.csv", correction), 9)
    (fixed,) = [f for f in land_new_files(lakehouse, config, landing).files if f.status == "landed"]
    assert (fixed.rows_in, fixed.rows_new, fixed.rows_changed, fixed.rows_duplicate) == (2, 1, 1, 0)
    # 6 + 2 + 1 points, each once; 08:00 holds the corrected value, from its line of the correction
    assert table(lakehouse, "bronze_historian__points", "select count(*), count(distinct (tag, ts)) from t") == [(9, 9)]
    assert table(
        lakehouse,
        "bronze_historian__points",
        "select value, source_file, source_line from t where tag = 'L1.FILLER.Total' and hour(ts) = 7",
    ) == [(999.0, "historian/correction.csv", 2)]
    after = {uri: _row_count(uri) for uri in DeltaTable(bronze).file_uris()}
    # the other tag's file is untouched; the morning file is replaced by its 5 other points
    (other_file,) = [uri for uri, rows in before.items() if rows == 2]
    (morning_file,) = [uri for uri, rows in before.items() if rows == 6]
    assert other_file in after and morning_file not in after
    assert sorted(after.values()) == [1, 1, 2, 5]
    # every file stores text as plain strings, so pyarrow can filter on it (it cannot on string_view)
    assert {str(pq.read_schema(uri.removeprefix("file://")).field("tag").type) for uri in after} == {"string"}
    filtered = DeltaTable(bronze).to_pyarrow_table(filters=[("tag", "=", "L1.FILLER.Total")])
    assert sorted(filtered["value"].to_pylist()) == [600.0, 700.0, 900.0, 999.0, 1000.0, 1100.0, 1200.0]


def test_a_correction_racing_a_compaction_is_committed_once_on_the_newer_version(env, monkeypatch):
    config, lakehouse, landing = env
    exported(write_aveva(landing / "historian" / "morning.csv", six_rows(6)), 8)  # 06:00 .. 11:00
    land_new_files(lakehouse, config, landing)
    exported(write_aveva(landing / "historian" / "other.csv", [r("2026-03-02 06:00:00", "L1.OTHER", 1)]), 8)
    land_new_files(lakehouse, config, landing)
    bronze = lakehouse.uri("bronze_historian__points")
    # maintenance compacts bronze's two files into one just before the correction's first commit: that
    # commit must not go through (it would remove files already gone and leave 08:00 twice)
    commit = DeltaTable.create_write_transaction
    compactions = []

    def compact_first(table, *args, **kwargs):
        if not compactions:
            compactions.append(DeltaTable(bronze).optimize.compact()["numFilesRemoved"])
        return commit(table, *args, **kwargs)

    monkeypatch.setattr(DeltaTable, "create_write_transaction", compact_first)
    correction = [r("2026-03-02 08:00:00", "L1.FILLER.Total", 999)]
    exported(write_aveva(landing / "historian" / "correction.csv", correction), 9)
    (fixed,) = [f for f in land_new_files(lakehouse, config, landing).files if f.status == "landed"]
    assert compactions == [2]
    assert (fixed.rows_in, fixed.rows_changed) == (1, 1)
    assert table(lakehouse, "bronze_historian__points", "select count(*), count(distinct (tag, ts)) from t") == [(7, 7)]
    assert table(lakehouse, "bronze_historian__points", "select value from t where hour(ts) = 7") == [(999.0,)]


def _row_count(uri: str) -> int:
    return pq.read_metadata(uri.removeprefix("file://")).num_rows


@pytest.mark.parametrize("order", [("a", "b", "c"), ("c", "a", "b"), ("b", "c", "a")])
def test_shuffled_arrival_converges_to_the_same_points(tmp_path, order):
    config = parse_plant_config(one_machine_config())
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    exports = {
        "a": (8, [r("2026-03-02 06:00:00", "L1.FILLER.Total", 1), r("2026-03-02 06:01:00", "L1.FILLER.Total", 2)]),
        "b": (9, [r("2026-03-02 06:01:00", "L1.FILLER.Total", 20), r("2026-03-02 06:02:00", "L1.FILLER.Total", 3)]),
        "c": (10, [r("2026-03-02 06:02:00", "L1.FILLER.Total", 30), r("2026-03-02 06:03:00", "L1.FILLER.Total", 4)]),
    }
    for name in order:
        hour, rows = exports[name]
        exported(write_aveva(landing / "historian" / f"{name}.csv", rows), hour)
        result = land_new_files(lakehouse, config, landing)
        assert all(f.rows_in == f.rows_landed + f.rows_quarantined for f in result.files)
    points = table(lakehouse, "bronze_historian__points", "select strftime(ts, '%H:%M'), value from t order by ts")
    assert points == [("05:00", 1.0), ("05:01", 20.0), ("05:02", 30.0), ("05:03", 4.0)]


def test_bad_rows_are_quarantined_with_line_numbers_and_good_rows_land(env):
    config, lakehouse, landing = env
    rows = [
        r("2026-03-02 06:00:00", "L1.FILLER.State", 1),  # line 2: good
        "2026-03-02 06:00:01.000,L1.FILLER.Total,abc,abc,0,192,192,Delta\n",  # line 3: not a number
        "yesterday,L1.FILLER.Total,5,5,0,192,192,Delta\n",  # line 4: bad timestamp
        "2026-03-02 06:00:03.000,L1.FILLER.Total\n",  # line 5: ragged
        r("2026-03-29 02:30:00", "L1.FILLER.Total", 7),  # line 6: does not exist in Berlin
        "2026-03-02 06:00:04.000,L1.FILLER.Total,inf,,0,192,192,Delta\n",  # line 7: not finite
        "2026-03-02 06:00:05.000,,5,5,0,192,192,Delta\n",  # line 8: no tag
        "2026-03-02 06:00:06.000,L1.FILLER.Total,5,5,7,192,192,Delta\n",  # line 9: unknown quality
        r("2026-03-02 06:00:07", "L1.FILLER.Total", None, quality=1),  # line 10: bad quality, lands
        r("2026-03-02 06:00:08", "L1.FILLER.Total", 42),  # line 11: good
    ]
    write_aveva(landing / "historian" / "bad.csv", rows)
    (report,) = land_new_files(lakehouse, config, landing).files
    assert (report.rows_in, report.rows_new, report.rows_quarantined) == (10, 3, 7)
    quarantined = table(lakehouse, "bronze__quarantine", "select line, reason from t order by line")
    assert [line for line, _ in quarantined] == [3, 4, 5, 6, 7, 8, 9]
    reasons = dict(quarantined)
    assert reasons[3] == "Value is not a number: abc"
    assert reasons[4] == "timestamp is not ISO-8601 (yesterday); set timestamp_format for this source"
    assert reasons[5] == "expected 8 fields, found 2"
    assert reasons[6].startswith("nonexistent local time 2026-03-29 02:30:00 in Europe/Berlin")
    assert reasons[7] == "Value is not finite: inf"
    assert reasons[8] == "TagName is empty"
    assert reasons[9] == "Quality code not recognised: 7"
    landed = table(lakehouse, "bronze_historian__points", "select source_line, quality from t order by source_line")
    assert landed == [(2, "good"), (10, "bad"), (11, "good")]
    assert table(lakehouse, "bronze__file_ledger", "select rows_in, rows_landed, rows_quarantined from t") == [
        (10, 3, 7)
    ]


def test_a_file_without_the_required_columns_is_rejected_and_every_line_kept(env):
    config, lakehouse, landing = env
    path = landing / "historian" / "wrong.csv"
    path.write_text("Time,Tag,Val\n2026-03-02 06:00:00,L1.FILLER.Total,5\n2026-03-02 06:01:00,L1.FILLER.Total,6\n")
    (report,) = land_new_files(lakehouse, config, landing).files
    assert report.status == "rejected"
    assert report.message.startswith("header lacks column(s) DateTime, TagName, Value")
    assert (report.rows_in, report.rows_quarantined) == (2, 2)
    assert table(lakehouse, "bronze__quarantine", "select line from t order by line") == [(2,), (3,)]
    assert table(lakehouse, "bronze__file_ledger", "select status, rows_in from t") == [("rejected", 2)]


def test_the_repeated_fall_back_hour_is_resolved_in_file_order(env):
    config, lakehouse, landing = env
    # Europe/Berlin 2026-10-25: 02:00-03:00 happens twice (CEST, then CET).
    rows = [
        r("2026-10-25 01:30:00", "L1.FILLER.Total", 1),  # 23:30 UTC
        r("2026-10-25 02:30:00", "L1.FILLER.Total", 2),  # first pass, CEST: 00:30 UTC
        r("2026-10-25 02:10:00", "L1.FILLER.Total", 3),  # clock went back, CET: 01:10 UTC
        r("2026-10-25 02:40:00", "L1.FILLER.Total", 4),  # still CET: 01:40 UTC
        r("2026-10-25 03:00:00", "L1.FILLER.Total", 5),  # 02:00 UTC
    ]
    write_aveva(landing / "historian" / "fallback.csv", rows)
    land_new_files(lakehouse, config, landing)
    got = table(lakehouse, "bronze_historian__points", "select strftime(ts, '%d %H:%M'), value from t order by value")
    assert got == [("24 23:30", 1.0), ("25 00:30", 2.0), ("25 01:10", 3.0), ("25 01:40", 4.0), ("25 02:00", 5.0)]


def test_a_gzip_export_lands_like_the_plain_one(env):
    config, lakehouse, landing = env
    with gzip.open(landing / "historian" / "a.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(HEADER + "".join(six_rows(6)))
    (report,) = land_new_files(lakehouse, config, landing).files
    assert (report.status, report.rows_in, report.rows_new) == ("landed", 6, 6)


def test_a_line_longer_than_a_parse_block_is_read_again_in_larger_blocks(env):
    config, lakehouse, landing = env
    # a 9 MB text value (Value empty, the text in vValue) spans three 4 MB parse blocks; DuckDB's
    # whole-file stager refuses a line that long too, so the file goes to the streaming reader
    long_row = "2026-03-02 07:00:00.000,L1.NOTE,," + "x" * 9_000_000 + ",0,192,192,Delta\n"
    write_aveva(landing / "historian" / "a.csv", [r("2026-03-02 06:00:00", "L1.FILLER.Total", 100), long_row])
    (report,) = land_new_files(lakehouse, config, landing).files
    assert (report.status, report.message, report.rows_in, report.rows_new, report.rows_quarantined) == (
        "landed",
        None,
        2,
        2,
        0,
    )
    # the long line is line 3: the header, then the short row
    assert table(
        lakehouse, "bronze_historian__points", "select tag, length(value_text), source_line from t order by ts"
    ) == [("L1.FILLER.Total", None, 2), ("L1.NOTE", 9_000_000, 3)]


def test_files_outside_any_source_folder_are_reported(env):
    config, lakehouse, landing = env
    (landing / "stray.csv").write_text("x\n")
    (landing / "historian" / "late.csv.part").write_text("x\n")
    result = land_new_files(lakehouse, config, landing)
    assert result.files == []
    assert result.notes == [
        "historian/late.csv.part: still being written (temporary name), left for the next run",
        "stray.csv: in no source's folder; not read; it could go in: historian/ (aveva_historian_csv)",
    ]


def test_late_data_rebuilds_its_day_and_its_neighbours(env):
    config, lakehouse, landing = env  # day_start 06:00 Europe/Berlin
    write_aveva(
        landing / "historian" / "days.csv",
        [r("2026-03-02 07:00:00", "L1.FILLER.State", 1), r("2026-03-04 07:00:00", "L1.FILLER.State", 1)],
    )
    first = land_new_files(lakehouse, config, landing)
    assert [str(d) for d in first.touched_days(config)] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    # A late point on the 2nd at 23:00 changes the state carried into the 3rd (the 4th has begun).
    write_aveva(landing / "historian" / "late.csv", [r("2026-03-02 23:00:00", "L1.FILLER.State", 3)])
    late = land_new_files(lakehouse, config, landing)
    assert [str(d) for d in late.touched_days(config)] == ["2026-03-02", "2026-03-03"]
    # Data of the newest day does not invent the day after it; the day before is rebuilt, as a stop
    # running at its end may end in the new data.
    write_aveva(landing / "historian" / "newest.csv", [r("2026-03-04 09:00:00", "L1.FILLER.State", 3)])
    newest = land_new_files(lakehouse, config, landing)
    assert [str(d) for d in newest.touched_days(config)] == ["2026-03-03", "2026-03-04"]


def test_an_empty_file_is_in_the_ledger_as_rejected(env):
    config, lakehouse, landing = env
    (landing / "historian" / "empty.csv").write_bytes(b"")
    (landing / "historian" / "header_only.csv").write_text(HEADER)
    reports = {f.source_file: f for f in land_new_files(lakehouse, config, landing).files}
    empty, header_only = reports["historian/empty.csv"], reports["historian/header_only.csv"]
    assert (empty.status, empty.message, empty.rows_in) == ("rejected", "the file is empty", 0)
    assert (header_only.status, header_only.rows_in) == ("landed", 0)
    assert table(lakehouse, "bronze__file_ledger", "select source_file, status from t order by 1") == [
        ("historian/empty.csv", "rejected"),
        ("historian/header_only.csv", "landed"),
    ]


def test_a_zip_lands_member_by_member_and_a_bomb_is_refused_without_stopping_the_others(env):
    import zipfile

    config, lakehouse, landing = env
    with zipfile.ZipFile(landing / "historian" / "week.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mon.csv", HEADER + "".join(six_rows(6)))
        archive.writestr("tue.csv", HEADER + "".join(six_rows(12)))
    with zipfile.ZipFile(landing / "historian" / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.csv", HEADER + "0" * 50_000_000)  # 50 MB of zeros: a ratio far over 200
    with zipfile.ZipFile(landing / "historian" / "escape.zip", "w") as archive:
        archive.writestr("../../etc/cron.d/x.csv", HEADER)
    reports = {f.source_file: f for f in land_new_files(lakehouse, config, landing).files}
    assert (reports["historian/week.zip!mon.csv"].rows_new, reports["historian/week.zip!tue.csv"].rows_new) == (6, 6)
    assert reports["historian/bomb.zip"].status == "rejected"
    assert "ratio" in reports["historian/bomb.zip"].message
    assert reports["historian/escape.zip"].status == "rejected"
    assert table(lakehouse, "bronze__file_ledger", "select source_file, status from t order by 1") == [
        ("historian/bomb.zip", "rejected"),
        ("historian/escape.zip", "rejected"),
        ("historian/week.zip!mon.csv", "landed"),
        ("historian/week.zip!tue.csv", "landed"),
    ]


def test_the_tag_catalog_lists_mapped_and_unmapped_tags(env):
    config, lakehouse, landing = env
    write_aveva(
        landing / "historian" / "a.csv",
        [
            r("2026-03-02 06:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 06:00:00", "L1.FILLER.TempC", 41.5),
            r("2026-03-02 07:00:00", "L1.FILLER.TempC", None, quality=1),
        ],
    )
    land_new_files(lakehouse, config, landing)
    write_aveva(landing / "historian" / "b.csv", [r("2026-03-02 08:00:00", "L1.FILLER.TempC", 42.0)])
    land_new_files(lakehouse, config, landing)
    catalog = table(
        lakehouse,
        "bronze__tag_catalog",
        "select tag, strftime(first_seen, '%H:%M'), strftime(last_seen, '%H:%M'), points, bad_points, "
        "round(bad_share, 4), mapped, role from t order by tag",
    )
    assert catalog == [
        ("L1.FILLER.State", "05:00", "05:00", 1, 0, 0.0, True, "state"),
        ("L1.FILLER.TempC", "05:00", "07:00", 3, 1, 0.3333, False, None),
    ]


def test_the_tag_catalog_keeps_the_units_an_export_states(tmp_path):
    import json

    raw = one_machine_config()
    raw["sources"] = [{"name": "pi", "format": "pi_webapi_json", "folder": "pi", "timezone": "UTC"}]
    config = parse_plant_config(raw)
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    (landing / "pi").mkdir(parents=True)
    document = {
        "Items": [
            {
                "Name": "L1.FILLER.kW",
                "Items": [
                    {"Timestamp": "2026-03-02T05:00:00Z", "Value": 12.5, "UnitsAbbreviation": "kW", "Good": True},
                    {"Timestamp": "2026-03-02T05:01:00Z", "Value": 13.0, "UnitsAbbreviation": "kW", "Good": True},
                ],
            },
            {"Name": "L1.FILLER.State", "Items": [{"Timestamp": "2026-03-02T05:00:00Z", "Value": 1, "Good": True}]},
        ]
    }
    (landing / "pi" / "values.json").write_text(json.dumps(document))
    land_new_files(lakehouse, config, landing)
    assert table(lakehouse, "bronze__tag_catalog", "select tag, points, unit from t order by tag") == [
        ("L1.FILLER.State", 1, None),
        ("L1.FILLER.kW", 2, "kW"),
    ]


def test_points_are_committed_in_chunks_that_leave_no_row_behind():
    import pyarrow as pa

    from assets.bronze.landing import _chunks

    rows = pa.table({"x": list(range(10))})
    chunks = _chunks(pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches(max_chunksize=3)), 6)
    # batches of 3, 3, 3, 1 rows; a chunk stops before it would pass 6 rows
    assert [[b.num_rows for b in chunk] for chunk in chunks] == [[3, 3], [3, 1]]
    with pytest.raises(RuntimeError, match="not read to its end"):
        for chunk in _chunks(pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches(max_chunksize=3)), 6):
            next(iter(chunk))  # a writer that stops early must not lose the rest

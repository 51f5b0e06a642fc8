"""The per-line OEE table the CLI prints after a run, from a small oee_daily built by hand."""

from __future__ import annotations

import datetime as dt

import duckdb

from orchestration.summary import line_oee_table

DAY = dt.date(2026, 3, 2)


def test_a_ratio_outside_0_1_is_printed_as_n_a_never_as_a_percentage(tmp_path):
    # A second guard behind the marts audit. L1: 8 h planned, 7 h run (availability 87.5 %), 1.0 s x 27,720
    # units / 25,200 s run = performance 110.0 % (n/a), 27,720 of 27,720 good: quality 100.0 %, OEE
    # 0.875 x 1.1 x 1.0 = 96.25 % (a possible number; data quality flags the performance behind it).
    # L2: a negative good count gives quality -10 / 100 = -10 % and a negative OEE: both n/a.
    path = tmp_path / "marts.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table oee_daily (line varchar, machine varchar, day date, planned_production_time_s double, "
            "run_time_s double, ideal_cycle_time_s double, total_count bigint, good_count bigint)"
        ).fetchall()
        con.executemany(
            "insert into oee_daily values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("L1", "FILLER", DAY, 28_800, 25_200, 1.0, 27_720, 27_720),
                ("L2", "FILLER", DAY, 28_800, 14_400, 1.0, 100, -10),
            ],
        )
    finally:
        con.close()
    table = line_oee_table(path, [DAY])
    assert table.splitlines()[2:] == [
        # line, days, planned h, availability, performance, quality, OEE
        "L1          1        8.0    87.5%      n/a   100.0%    96.3%",
        "L2          1        8.0    50.0%     0.7%      n/a      n/a",
    ]
    rows = "\n".join(table.splitlines()[2:])
    assert "110.0" not in rows and "-" not in rows

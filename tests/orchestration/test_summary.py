"""The per-line OEE table the CLI prints after a run, from a small oee_daily built by hand."""

from __future__ import annotations

import datetime as dt

import duckdb

from orchestration.summary import line_energy_table, line_oee_table

DAY = dt.date(2026, 3, 2)


def test_a_ratio_outside_0_1_is_printed_as_n_a_never_as_a_percentage(tmp_path):
    # A second guard behind the marts audit. L1: 8 h planned, 7 h run (availability 87.5 %), 1.0 s x 27,720
    # units / 25,200 s run = performance 110.0 % (n/a), 27,720 of 27,720 good: quality 100.0 %, OEE
    # 0.875 x 1.1 x 1.0 = 96.25 % (a possible number; data quality flags the performance behind it).
    # L2: a negative good count gives quality -10 / 100 = -10 % and a negative OEE: both n/a.
    # (27,720 / 28,800 is exactly 96.25 %, which the format rounds half to even: 96.2 %.)
    # Since the roll-ups go through ideal time the table reads oee_line_daily: ideal time = 1.0 s x total,
    # fully productive time = 1.0 s x good.
    path = tmp_path / "marts.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table oee_line_daily (line varchar, day date, planned_production_time_s double, "
            "run_time_s double, ideal_time_s double, fully_productive_time_s double, output_good_count bigint)"
        ).fetchall()
        con.executemany(
            "insert into oee_line_daily values (?, ?, ?, ?, ?, ?, ?)",
            [
                ("L1", DAY, 28_800, 25_200, 27_720, 27_720, 27_720),
                ("L2", DAY, 28_800, 14_400, 100, -10, -10),
            ],
        )
    finally:
        con.close()
    table = line_oee_table(path, [DAY])
    assert table.splitlines()[2:] == [
        # line, days, planned h, availability, performance, quality, OEE
        "L1          1        8.0    87.5%      n/a   100.0%    96.2%       27,720",
        "L2          1        8.0    50.0%     0.7%      n/a      n/a          -10",
    ]
    ratios = "\n".join(row[:-13] for row in table.splitlines()[2:])  # all but the good units
    assert "110.0" not in ratios and "-" not in ratios


def test_a_plant_without_oee_says_so_and_shows_its_energy(tmp_path):
    # A sensor-only plant: no oee_line_daily rows, energy_daily line rows. UTIL: 1,488 kWh on the 2nd and
    # 1,000 on the 3rd = 2,488 kWh, 992 + 600 = 1,592 outside shifts, the 3rd flagged. A line with 0 kWh
    # (no energy tag) is left out.
    path = tmp_path / "marts.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table oee_line_daily (line varchar, day date, planned_production_time_s double, "
            "run_time_s double, ideal_time_s double, fully_productive_time_s double, output_good_count bigint)"
        ).fetchall()
        con.execute(
            "create table energy_daily (level varchar, line varchar, day date, kwh_total double, "
            "kwh_outside_scheduled double, data_quality_ok boolean)"
        ).fetchall()
        day2 = DAY + dt.timedelta(days=1)
        con.executemany(
            "insert into energy_daily values (?, ?, ?, ?, ?, ?)",
            [
                ("line", "UTIL", DAY, 1_488, 992, True),
                ("line", "UTIL", day2, 1_000, 600, False),
                ("machine", "UTIL", DAY, 1_488, 992, True),
                ("site", None, DAY, 1_488, 992, True),
                ("line", "SENSORS", DAY, 0, 0, True),
            ],
        )
    finally:
        con.close()
    days = [DAY, DAY + dt.timedelta(days=1)]
    assert line_oee_table(path, days).splitlines() == [
        "OEE per line, production days 2026-03-02 .. 2026-03-03",
        "  no OEE: no machine has a state tag and counters (energy and sensor figures only)",
    ]
    assert line_energy_table(path, days).splitlines() == [
        "Energy per line, production days 2026-03-02 .. 2026-03-03",
        "line     days          kWh  outside shifts  days flagged",
        "UTIL        2      2,488.0         1,592.0             1",
    ]

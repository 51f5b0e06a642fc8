"""The states the marts read (sql/staging/stg_machine_states.sql) over changeovers that overlap: a stop second
inside two changeovers is one planned-stop second, never two. Overlapping changeovers come from a product
that never counted before the next change, or from neighbouring days whose silver was built under different
plant YAMLs."""

from __future__ import annotations

import datetime as dt

import duckdb

from assets.storage.sql_files import sql_file

UTC = dt.UTC


def t(hour: float) -> dt.datetime:
    return dt.datetime(2026, 3, 2, tzinfo=UTC) + dt.timedelta(hours=hour)


def test_a_stop_inside_two_overlapping_changeovers_is_counted_once():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "create table silver__machine_states (day date, line varchar, machine varchar, start timestamptz, "
        '"end" timestamptz, duration_s double, category varchar, reason varchar, state_code varchar, '
        "event_start timestamptz, event_end timestamptz, is_minor_stop boolean)"
    )
    # the day 05:00-13:00: running, a jam 08:00-10:00, running again
    states = [
        (t(5), t(8), "running", None, "1"),
        (t(8), t(10), "unplanned_stop", "Jam", "3"),
        (t(10), t(13), "running", None, "1"),
    ]
    for start, end, category, reason, code in states:
        con.execute(
            "insert into silver__machine_states values "
            "(date '2026-03-02', 'L1', 'FILLER', ?, ?, ?, ?, ?, ?, ?, ?, false)",
            [start, end, (end - start).total_seconds(), category, reason, code, start, end],
        )
    # two changeovers over the jam that overlap 08:30-09:30: 07:30-09:30 and 08:30-09:45
    con.execute(
        "create table stg_changeovers as select * from (values "
        "('L1', 'FILLER', ?::timestamptz, ?::timestamptz), ('L1', 'FILLER', ?::timestamptz, ?::timestamptz)) "
        'as c(line, machine, start, "end")',
        [t(7.5), t(9.5), t(8.5), t(9.75)],
    )
    rows = con.execute(
        f"select category, reason, state_code, sum(duration_s) from ({sql_file('staging/stg_machine_states.sql')}) "
        "group by all order by all"
    ).fetchall()
    # the merged changeover 07:30-09:45 covers the jam from 08:00 to 09:45 (6,300 s); 09:45-10:00 stays a
    # jam (900 s); the running time is untouched (3 h + 3 h); 8 h in all, every second once
    assert rows == [
        ("planned_stop", "changeover", "3", 6300.0),
        ("running", None, "1", 21600.0),
        ("unplanned_stop", "Jam", "3", 900.0),
    ]

"""Invariants of the published marts on random plants, through the real pipeline (issue #13 section 8).

Each example generates a plant (calendar with DST days, shifts across midnight, breaks; machines with
random state timelines; counters with wraps and resets; power and meter tags), writes its points as
AVEVA exports split, repeated, overlapping and shuffled, with bad rows, lands them, builds the days and
checks the marts against values computed in plain Python from the generated timeline (oracle.py),
never from the product's code. A failure prints the plant (`note`) and hypothesis' falsifying example.
"""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.helpers.properties.oracle import (
    counted,
    intersect,
    length,
    meter_kwh,
    power_kwh,
    state_sets,
    subtract,
    union,
)
from tests.helpers.properties.pipeline import built_plant, delta_rows, one_file, rows_as_dicts
from tests.helpers.properties.plants import Arrival, PlantCase, arrivals, plants

# times and counts whose line and site rows are the sums of their machines' rows
ROLLED_UP = (
    "planned_production_time_s",
    "run_time_s",
    "planned_stop_time_s",
    "unplanned_stop_time_s",
    "minor_stop_time_s",
    "unknown_state_time_s",
    "ideal_time_s",
    "fully_productive_time_s",
)


def close(actual, expected, rel=1e-9, abs_=1e-9) -> bool:
    return actual is not None and math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


def expected_machine_day(case: PlantCase, machine, day: dt.date) -> dict:
    """The oee_daily row of one machine-day, from the generated timeline."""
    sets = case.calendar.sets(day)
    states = state_sets(machine.states, sets.window, machine.threshold_s)
    planned = sets.planned
    not_scheduled = length(intersect(planned, states.not_scheduled))
    total, reject = counted(machine.counters, subtract(planned, states.not_scheduled))
    return {
        "calendar_time_s": sets.calendar_s,
        "scheduled_time_s": length(sets.shifts),
        "break_time_s": length(sets.breaks),
        "not_scheduled_time_s": not_scheduled,
        "planned_production_time_s": length(planned) - not_scheduled,
        "run_time_s": length(intersect(planned, states.running)),
        "planned_stop_time_s": length(intersect(planned, states.planned_stop)),
        "unplanned_stop_time_s": length(intersect(planned, states.unplanned_stop)),
        "minor_stop_time_s": length(intersect(planned, states.minor)),
        "unknown_state_time_s": length(intersect(planned, states.unknown)),
        "total_count": total,
        "reject_count": reject,
        "good_count": total - reject,
    }


def expected_energy(case: PlantCase, machine, day: dt.date) -> dict:
    """kWh of a machine-day, in total, while running and outside shifts: kW x the time each reading
    holds (to the next reading), or a meter's steps spread evenly over their spans."""
    sets = case.calendar.sets(day)
    states = state_sets(machine.states, sets.window, machine.threshold_s)
    where = {
        "kwh_total": [sets.window],
        "kwh_running": intersect(sets.planned, states.running),
        "kwh_stopped": intersect(sets.planned, union(states.planned_stop + states.unplanned_stop)),
        "kwh_outside_scheduled": subtract([sets.window], sets.shifts),
    }
    if machine.energy_kind == "power":
        return {k: power_kwh(machine.energy, v) for k, v in where.items()}
    if machine.energy_kind == "meter":
        return {k: meter_kwh(machine.energy, v, machine.energy_rollover) for k, v in where.items()}
    return dict.fromkeys(where, 0.0)


def check_machine_days(case: PlantCase, plant) -> None:
    rows = {(r["line"], r["machine"], r["day"]): r for r in rows_as_dicts(plant, "select * from oee_daily")}
    assert len(rows) == len(case.machines) * len(case.days), sorted(rows)
    for m in case.machines:
        for day in case.days:
            row, want = rows[(m.line, m.name, day)], expected_machine_day(case, m, day)
            got = {k: row[k] for k in want}
            assert got == want, f"{m.tag} {day}: {got} != {want}"
            # every second of the machine-day in exactly one category, the day's length by zoneinfo
            assert row["calendar_time_s"] == case.calendar.sets(day).calendar_s
            assert row["calendar_time_s"] in (23 * 3600, 24 * 3600, 25 * 3600), (m.tag, day)
            outside_shifts = row["calendar_time_s"] - row["scheduled_time_s"]
            categories = (
                outside_shifts,
                row["break_time_s"],
                row["not_scheduled_time_s"],
                row["run_time_s"],
                row["planned_stop_time_s"],
                row["unplanned_stop_time_s"],
            )
            assert min(categories) >= 0 and sum(categories) == row["calendar_time_s"], (m.tag, day, categories)
            assert (
                0
                <= row["run_time_s"]
                <= row["planned_production_time_s"]
                <= row["scheduled_time_s"]
                <= row["calendar_time_s"]
            )
            check_ratios(row, m.ideal_cycle_time_s, f"{m.tag} {day}")


def check_ratios(row: dict, ict: float, where: str) -> None:
    """A = run / planned, P = ideal x total / run, Q = good / total, each NULL only where its
    denominator is 0; where all three are defined, A x P x Q = OEE = fully productive / planned."""
    planned, run, total, good = (
        row["planned_production_time_s"],
        row["run_time_s"],
        row["total_count"],
        row["good_count"],
    )
    assert (row["availability"] is None) == (planned == 0), where
    assert (row["performance"] is None) == (run == 0), where
    assert (row["quality"] is None) == (total == 0), where
    if planned:
        assert close(row["availability"], run / planned), where
    if run:
        assert close(row["performance"], ict * total / run), where
    if total:
        assert close(row["quality"], good / total), where
    if None not in (row["availability"], row["performance"], row["quality"]):
        assert close(row["oee"], row["availability"] * row["performance"] * row["quality"]), where
        assert close(row["oee"], ict * good / planned), where


def check_rollups(case: PlantCase, plant) -> None:
    machines = rows_as_dicts(plant, "select * from oee_daily")
    for level, key in (("line", ("line", "day")), ("site", ("site", "day"))):
        rolled = rows_as_dicts(plant, f"select * from oee_{level}_daily")
        assert len(rolled) == len({tuple(m[k] for k in key) for m in machines}), level
        for row in rolled:
            mine = [m for m in machines if all(m[k] == row[k] for k in key)]
            for col in ROLLED_UP:
                want = sum(m[col] for m in mine)
                assert close(row[col], want), (level, row[key[0]], row["day"], col, row[col], want)
            # machine-hour sums carry their own names; the row's calendar time is the day's length
            assert close(row["machine_scheduled_time_s"], sum(m["scheduled_time_s"] for m in mine)), level
            assert close(row["machine_calendar_time_s"], sum(m["calendar_time_s"] for m in mine)), level
            assert row["calendar_time_s"] == case.calendar.sets(row["day"]).calendar_s, level
            # a line's output is its output machine's (the plant YAML's last machine of the line); a
            # site's the sum of its lines' outputs
            outputs = [m for m in mine if m["machine"] == last_machine_of(case, m["line"])]
            for col in ("total_count", "good_count", "reject_count"):
                assert row[f"output_{col}"] == sum(m[col] for m in outputs), (level, col)


def last_machine_of(case: PlantCase, line: str) -> str:
    return [m.name for m in case.machines if m.line == line][-1]


def check_energy(case: PlantCase, plant) -> None:
    rows = rows_as_dicts(plant, "select * from energy_daily")
    machines = {(r["line"], r["machine"], r["day"]): r for r in rows if r["level"] == "machine"}
    # a machine without an energy tag has no energy row (its kWh is unknown, not 0)
    assert {(line, machine) for line, machine, _ in machines} == {
        (m.line, m.name) for m in case.machines if m.energy_kind
    }
    for m in case.machines:
        if not m.energy_kind:
            continue
        for day in case.days:
            row = machines[(m.line, m.name, day)]
            for col, want in expected_energy(case, m, day).items():
                assert close(row[col], want, rel=1e-9, abs_=1e-6), (m.tag, day, col, row[col], want)
    for r in rows:
        if r["level"] in ("line", "site"):
            key = "line" if r["level"] == "line" else "site"
            mine = [x for x in machines.values() if x[key] == r[key] and x["day"] == r["day"]]
            if not mine:  # no metered machine: the roll-up's kWh is unknown
                assert r["kwh_total"] is None, (r["level"], r[key])
                continue
            assert close(r["kwh_total"], sum(x["kwh_total"] for x in mine), abs_=1e-6), (r["level"], r[key])


def check_rows_in(case: PlantCase, arrival: Arrival, plant) -> None:
    """Every line written is landed or quarantined, once: per file from the ledger, and in total from
    bronze and the quarantine table."""
    ledger = {
        r[0].rsplit("/", 1)[-1]: r
        for r in delta_rows(
            plant,
            "bronze__file_ledger",
            "select source_file, status, rows_in, rows_landed, rows_quarantined, file_key from t",
        )
    }
    assert sorted(ledger) == sorted(e.name for e in arrival.exports)
    quarantined = dict(delta_rows(plant, "bronze__quarantine", "select file_key, count(*) from t group by all") or [])
    by_content: dict[str, list[str]] = {}
    for export in arrival.exports:
        by_content.setdefault(export.content, []).append(export.name)
        _, status, rows_in, landed, bad, file_key = ledger[export.name]
        assert rows_in == landed + bad, (export.name, rows_in, landed, bad)
        if status == "landed":
            assert (rows_in, landed, bad) == (len(export.lines), len(export.lines) - export.bad, export.bad)
            assert quarantined.get(file_key, 0) == export.bad, export.name
        else:
            assert status == "duplicate" and landed == bad == 0 and quarantined.get(file_key, 0) == 0, export.name
    for names in by_content.values():
        assert sorted(ledger[n][1] for n in names) == sorted(["landed"] + ["duplicate"] * (len(names) - 1)), names
    points = case.rows()
    assert delta_rows(plant, "bronze_historian__points", "select count(*) from t") == [(len(points),)]
    assert sum(quarantined.values()) == sum(by_content_bad(arrival).values())


def by_content_bad(arrival: Arrival) -> dict[str, int]:
    return {e.content: e.bad for e in arrival.exports}


@given(data=st.data(), case=plants())
def test_marts_hold_their_invariants(case, data):
    """Times by category, nesting, counts, ratios, roll-ups, energy and the row balance, on one landing
    of split, repeated, overlapping and shuffled exports with bad rows."""
    tags = sorted({line.split(",")[1] for line in case.rows()})
    arrival = data.draw(arrivals(case.rows(), tags))
    note(case.describe())
    note(f"exports: {[(e.name, len(e.lines), e.bad, e.content) for e in arrival.exports]}")
    note(f"landing runs after exports {arrival.land_after}")
    with built_plant(case, arrival) as plant:
        check_machine_days(case, plant)
        check_rollups(case, plant)
        check_energy(case, plant)
        check_rows_in(case, arrival, plant)


# --- one rule each: counter jitter, power gaps, the 24 h shift, OEE where nothing ran, mixed roll-ups -----
# Each generates the case its rule is about, on half the examples, so the suite stays within its time.
ONE_RULE = settings(max_examples=max(2, settings.default.max_examples // 2))


@ONE_RULE
@given(case=plants(jitter=True))
def test_counter_jitter_counts_nothing_until_the_previous_high(case):
    note(case.describe())
    with built_plant(case, one_file(case)) as plant:
        check_machine_days(case, plant)


@ONE_RULE
@given(case=plants(power_gaps=True))
def test_power_readings_hold_at_most_the_max_gap(case):
    """Power logged every I s with the logger off for hours now and then: each reading counts for the
    time to the next reading, at most 3 x I (the unknown rest is not invented). A meter read on the same
    clock knows each step's kWh but not when within a long gap it was used: the step is spread evenly over
    its span, so the day gets the step's share of the span inside it."""
    note(case.describe())
    with built_plant(case, one_file(case)) as plant:
        rows = rows_as_dicts(plant, "select * from energy_daily where level = 'machine'")
        got = {(r["line"], r["machine"], r["day"]): r["kwh_total"] for r in rows}
        for m in case.machines:
            for day in case.days:
                window = [case.calendar.day_window(day)]
                if m.energy_kind == "power":
                    want = power_kwh(
                        m.energy, window, max_hold_s=3 * m.energy_interval_s, last_hold_s=m.energy_interval_s
                    )
                elif m.energy_kind == "meter":
                    want = meter_kwh(m.energy, window, m.energy_rollover)
                else:
                    continue
                assert close(got[(m.line, m.name, day)], want, abs_=1e-6), (m.tag, day, want)


@ONE_RULE
@given(case=plants(full_day_shift=True))
def test_a_24_hour_shift(case):
    note(case.describe())
    with built_plant(case, one_file(case)) as plant:
        check_machine_days(case, plant)
        check_rollups(case, plant)


@ONE_RULE
@given(case=plants(stopped_machine=True))
def test_oee_is_null_only_where_planned_time_is_zero(case):
    """A machine jammed through every shift: availability 0 and OEE 0, not NULL, on its own row and on
    its line's and the site's."""
    note(case.describe())
    with built_plant(case, one_file(case)) as plant:
        for table in ("oee_daily", "oee_line_daily", "oee_site_daily"):
            for row in rows_as_dicts(plant, f"select * from {table}"):
                planned = row["planned_production_time_s"]
                where = (table, row.get("line"), row.get("machine"), row["day"])
                if planned == 0:
                    assert row["oee"] is None, where
                else:
                    assert close(row["oee"], row["fully_productive_time_s"] / planned), where


@ONE_RULE
@given(case=plants(mixed_cycle_times=True))
def test_line_and_site_ratios_roll_up_through_ideal_time(case):
    """Machines of one line with different ideal cycle times: from the generated timeline,
    P = sum(ideal x total) / sum(run), Q = sum(ideal x good) / sum(ideal x total),
    OEE = sum(ideal x good) / sum(planned) = A x P x Q."""
    note(case.describe())
    with built_plant(case, one_file(case)) as plant:
        for level in ("line", "site"):
            for row in rows_as_dicts(plant, f"select * from oee_{level}_daily"):
                day = row["day"]
                mine = [m for m in case.machines if level == "site" or m.line == row["line"]]
                exp = [(m.ideal_cycle_time_s, expected_machine_day(case, m, day)) for m in mine]
                planned = sum(e["planned_production_time_s"] for _, e in exp)
                run = sum(e["run_time_s"] for _, e in exp)
                ideal = sum(ict * e["total_count"] for ict, e in exp)
                productive = sum(ict * e["good_count"] for ict, e in exp)
                where = (level, row.get("line"), day)
                assert row["calendar_time_s"] == case.calendar.sets(day).calendar_s, where
                if planned:
                    assert close(row["availability"], run / planned), where
                    assert close(row["oee"], productive / planned), where
                if run:
                    assert close(row["performance"], ideal / run), where
                if ideal:
                    assert close(row["quality"], productive / ideal), where
                if None not in (row["availability"], row["performance"], row["quality"]):
                    assert close(row["oee"], row["availability"] * row["performance"] * row["quality"]), where

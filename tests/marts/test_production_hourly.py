"""production_hourly over hand-written silver in real DuckDB: plant-local hours on the days the clocks
change (23 and 25 hours, each hour once), target counts from the product running and the machine's target
rate, and the cumulative gap since the shift began (a night shift runs on across the day's edge).

Plant: Europe/Berlin, production day from 00:00, shifts early 06-14, late 14-22, night 22-06, every day;
FILLER's own ideal cycle 1.0 s, targets.rate 0.5; products 033 at 0.5 s and 100 at 2.0 s.
"""

from __future__ import annotations

import datetime as dt

from tests.helpers.mart_sql import MartSQL, utc
from tests.helpers.plant import EVERY_DAY, THREE_SHIFTS, one_machine_config

HOUR = dt.timedelta(hours=1)


def config() -> dict:
    plant = one_machine_config(shifts=THREE_SHIFTS, day_start="00:00", working_days=EVERY_DAY)
    plant["products"] = [
        {"id": "033", "name": "0.33 l bottle", "ideal_cycle_time_s": 0.5},
        {"id": "100", "name": "1.0 l bottle", "ideal_cycle_time_s": 2.0},
    ]
    plant["lines"][0]["machines"][0]["targets"] = {"rate": 0.5}
    return plant


def state(day: str, start: dt.datetime, end: dt.datetime, category="running", reason=None) -> dict:
    return {
        "day": dt.date.fromisoformat(day), "line": "L1", "machine": "FILLER", "start": start, "end": end,
        "duration_s": (end - start).total_seconds(), "category": category, "reason": reason, "state_code": "1",
        "event_start": start, "event_end": end, "is_minor_stop": False,
    }  # fmt: skip


def run(day: str, start: dt.datetime, end: dt.datetime, product: str) -> dict:
    return {
        "day": dt.date.fromisoformat(day), "line": "L1", "machine": "FILLER", "start": start, "end": end,
        "duration_s": (end - start).total_seconds(), "product": product, "product_value": None, "order_id": None,
        "source": "tag" if product != "unknown" else "unknown", "run_start": start, "run_end": end,
    }  # fmt: skip


def counts(day: str, ts: dt.datetime, total: float, reject: float) -> list[dict]:
    base = {"day": dt.date.fromisoformat(day), "line": "L1", "machine": "FILLER", "ts": ts, "event": "count"}
    return [
        {**base, "kind": "total", "tag": "L1.FILLER.Total", "increment": total},
        {**base, "kind": "reject", "tag": "L1.FILLER.Reject", "increment": reject},
    ]


COLUMNS = (
    "select substr(local_hour, 12, 2) as h, local_hour, strftime(hour_start, '%d %H:%M') as utc, shift_name, products, "
    "total_count, good_count, run_time_s, stop_time_s, planned_production_time_s, target_count, cumulative_good, "
    "cumulative_target, gap from production_hourly where level = ? and day = ? order by hour_start"
)


def test_spring_forward_day_has_23_hours_with_targets_of_the_product_running_and_the_gap_since_shift_start(
    tmp_path,
):
    # Production day 29 March 2026 (clocks 02:00 CET -> 03:00 CEST): 28 Mar 23:00Z .. 29 Mar 22:00Z, 23 hours.
    # The day before (CET) is 27 Mar 23:00Z .. 28 Mar 23:00Z; its night shift starts 21:00Z.
    # FILLER runs throughout, but for a jam 03:00-03:15 CEST (01:00-01:15Z). It makes 033 until 10:30 CEST
    # (08:30Z), then 100. A reading at each hour's half: total 3000 before 10:00 local, 2000 in 10:00-11:00,
    # 800 after; 100 rejects each.
    start, jam_end, end = utc("2026-03-28 23:00"), utc("2026-03-29 01:15"), utc("2026-03-29 22:00")
    silver = {
        "silver__machine_states": [
            state("2026-03-28", utc("2026-03-27 23:00"), start),
            state("2026-03-29", start, utc("2026-03-29 01:00")),
            state("2026-03-29", utc("2026-03-29 01:00"), jam_end, "unplanned_stop", "Jam"),
            state("2026-03-29", jam_end, end),
        ],
        "silver__production_runs": [
            run("2026-03-28", utc("2026-03-27 23:00"), start, "033"),
            run("2026-03-29", start, utc("2026-03-29 08:30"), "033"),
            run("2026-03-29", utc("2026-03-29 08:30"), end, "100"),
        ],
        "silver__count_increments": [
            # the day before: its night shift's two hours, 22:00 and 23:00 CET
            *counts("2026-03-28", utc("2026-03-28 21:30"), 3000, 100),
            *counts("2026-03-28", utc("2026-03-28 22:30"), 3000, 100),
            *(
                row
                for k in range(23)
                for row in counts(
                    "2026-03-29",
                    start + k * HOUR + HOUR / 2,
                    # local hour = UTC + 2 from 01:00Z: 08:00Z is 10:00 CEST
                    3000 if start + k * HOUR < utc("2026-03-29 08:00") else 2000 if k == 9 else 800,
                    100,
                )
            ),
        ],
    }
    days = [dt.date(2026, 3, 28), dt.date(2026, 3, 29)]
    marts = MartSQL(tmp_path, config(), days, silver)
    marts.build("production_hourly", [dt.date(2026, 3, 29)])

    rows = marts.rows(COLUMNS, ["machine", dt.date(2026, 3, 29)])
    # 23 hours, each once; 02:00 does not exist that night
    assert [r["h"] for r in rows] == ["00", "01", *(f"{h:02d}" for h in range(3, 24))]
    assert [r["local_hour"] for r in rows[1:3]] == ["2026-03-29 01:00+01:00", "2026-03-29 03:00+02:00"]
    assert len({r["utc"] for r in rows}) == 23
    assert all(r["planned_production_time_s"] == 3600 for r in rows)
    hour = {r["h"]: r for r in rows}

    # 03:00 CEST: the 15 min jam is stop time; the target counts every planned second: 3600 s / 0.5 s x 0.5 = 3600
    assert (hour["03"]["run_time_s"], hour["03"]["stop_time_s"], hour["03"]["target_count"]) == (2700, 900, 3600)
    # 10:00 CEST: 1800 s of 033 (1800 / 0.5 x 0.5 = 1800) and 1800 s of 100 (1800 / 2.0 x 0.5 = 450)
    assert (hour["10"]["products"], hour["10"]["target_count"]) == ("033,100", 2250)
    assert (hour["11"]["products"], hour["11"]["target_count"]) == ("100", 900)
    assert (hour["10"]["total_count"], hour["10"]["good_count"]) == (2000, 1900)

    # the night shift that began 22:00 CET on the 28th: 22, 23 (the day before), 00, 01, 03, 04, 05 = 7 hours
    # of 2900 good and 3600 target: 20,300 against 25,200, gap -4,900
    assert hour["05"]["shift_name"] == "night"
    assert (hour["05"]["cumulative_good"], hour["05"]["cumulative_target"], hour["05"]["gap"]) == (
        20_300,
        25_200,
        -4_900,
    )
    # the early shift 06-14: 06..09 at 2900 good / 3600 target, 10 at 1900 / 2250, 11..13 at 700 / 900:
    # good 4 x 2900 + 1900 + 3 x 700 = 15,600; target 4 x 3600 + 2250 + 3 x 900 = 19,350; gap -3,750
    assert (hour["06"]["cumulative_good"], hour["06"]["cumulative_target"]) == (2900, 3600)
    assert (hour["13"]["cumulative_good"], hour["13"]["cumulative_target"], hour["13"]["gap"]) == (
        15_600,
        19_350,
        -3_750,
    )
    # the late shift starts its own sum: 700 against 900 in its first hour
    assert (hour["14"]["shift_name"], hour["14"]["cumulative_good"], hour["14"]["gap"]) == ("late", 700, -200)
    # the day's good count: 9 hours at 2900 (00-09 less 02), 1900, 13 hours at 700 = 37,100
    assert sum(r["good_count"] for r in rows) == 37_100

    # the line's rows are its output machine's (FILLER, its only machine)
    line_rows = marts.rows(COLUMNS, ["line", dt.date(2026, 3, 29)])
    assert line_rows == rows
    # only the day rebuilt: the day before is not in the mart
    assert marts.rows("select distinct day from production_hourly") == [{"day": dt.date(2026, 3, 29)}]


def test_fall_back_day_has_25_hours_each_once_and_the_repeated_two_oclock_hour_twice(tmp_path):
    # Production day 25 October 2026 (clocks 03:00 CEST -> 02:00 CET): 24 Oct 22:00Z .. 25 Oct 23:00Z, 25 hours.
    # The day before (CEST): 23 Oct 22:00Z .. 24 Oct 22:00Z; its night shift starts 20:00Z.
    # No product known ('unknown': the machine's own 1.0 s): target = 3600 / 1.0 x 0.5 = 1800 an hour.
    # 1000 units, no rejects, read at each hour's half.
    before, start, end = utc("2026-10-23 22:00"), utc("2026-10-24 22:00"), utc("2026-10-25 23:00")
    silver = {
        "silver__machine_states": [state("2026-10-24", before, start), state("2026-10-25", start, end)],
        "silver__production_runs": [
            run("2026-10-24", before, start, "unknown"),
            run("2026-10-25", start, end, "unknown"),
        ],
        "silver__count_increments": [
            *counts("2026-10-24", utc("2026-10-24 20:30"), 1000, 0),
            *counts("2026-10-24", utc("2026-10-24 21:30"), 1000, 0),
            *(row for k in range(25) for row in counts("2026-10-25", start + k * HOUR + HOUR / 2, 1000, 0)),
        ],
    }
    marts = MartSQL(tmp_path, config(), [dt.date(2026, 10, 24), dt.date(2026, 10, 25)], silver)
    marts.build("production_hourly", [dt.date(2026, 10, 25)])

    for level in ("machine", "line"):
        rows = marts.rows(COLUMNS, [level, dt.date(2026, 10, 25)])
        # 25 hours: 00, 01, 02 (CEST), 02 (CET), 03 .. 23; each UTC hour once, 22:00Z on the 24th .. 22:00Z on the 25th
        assert [r["h"] for r in rows] == ["00", "01", "02", "02", *(f"{h:02d}" for h in range(3, 24))]
        assert [r["utc"] for r in rows] == [(start + k * HOUR).strftime("%d %H:%M") for k in range(25)]
        assert [r["local_hour"] for r in rows[2:4]] == ["2026-10-25 02:00+02:00", "2026-10-25 02:00+01:00"]
        hourly = {(r["planned_production_time_s"], r["target_count"], r["good_count"]) for r in rows}
        assert hourly == {(3600, 1800, 1000)}
        assert {r["products"] for r in rows} == {"unknown"}
        # 05:00 CET ends the night shift begun 22:00 CEST on the 24th: 22, 23, 00, 01, 02, 02, 03, 04, 05 = 9
        # hours: good 9,000 against 9 x 1800 = 16,200, gap -7,200
        last_night = rows[6]
        assert (last_night["h"], last_night["shift_name"]) == ("05", "night")
        assert (last_night["cumulative_good"], last_night["cumulative_target"], last_night["gap"]) == (
            9_000,
            16_200,
            -7_200,
        )

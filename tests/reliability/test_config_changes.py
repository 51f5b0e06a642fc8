"""Configuration changes are explicit: the real `iiot-lakehouse run` after the plant YAML changed.

A change of the time zone moves every production day's window: building the next day with it beside a
day of the earlier zone left six hours in no production day. It is refused until `run --rebuild-all`
rebuilds every day with the new zone. A renamed tag applies to the days built from then on: the run says
so and names the days built with the earlier YAML, which the history table keeps; a day rebuilt with the
new name reads the earlier name's points as its history.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import yaml

from tests.helpers.cli import CliPlant as Plant
from tests.helpers.cli import last_line
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import query

UTC = dt.UTC


def _day_windows(plant: Plant) -> list[tuple]:
    return query(
        plant.lake, "silver__plant_calendar", "select day, start, \"end\" from t where kind = 'day' order by day"
    )


def _history(plant: Plant) -> list[tuple]:
    return query(plant.lake, "plant_config_history", "select plant_yaml, first_day from t order by first_used_at")


def _availability(plant: Plant) -> list[tuple]:
    con = duckdb.connect(str(plant.lake / "marts.duckdb"), read_only=True)
    try:
        return con.execute("select day, availability from oee_daily order by day").fetchall()
    finally:
        con.close()


def _write_config(plant: Plant, config: dict) -> None:
    plant.config.write_text(yaml.safe_dump(config), encoding="utf-8")


def test_a_time_zone_change_is_refused_until_every_day_is_rebuilt_with_no_hour_in_no_day(tmp_path):
    plant = Plant(tmp_path)
    # Monday 2026-03-02 in Berlin: running from 07:00, 10 units by 08:00
    write_aveva(
        plant.landing / "historian" / "mon.csv",
        [r("2026-03-02 07:00:00", "L1.FILLER.State", 1), r("2026-03-02 08:00:00", "L1.FILLER.Total", 10)],
    )
    first = plant.run()
    assert first.returncode == 0, first.stderr[-3000:]
    # 06:00 CET (UTC+1) is 05:00 UTC
    assert _day_windows(plant) == [
        (dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 5, tzinfo=UTC), dt.datetime(2026, 3, 3, 5, tzinfo=UTC))
    ]

    # the plant moves to New York; Tuesday's export is in its local time
    _write_config(plant, one_machine_config(timezone="America/New_York"))
    write_aveva(
        plant.landing / "historian" / "tue.csv",
        [r("2026-03-03 07:00:00", "L1.FILLER.State", 1), r("2026-03-03 08:00:00", "L1.FILLER.Total", 10)],
    )
    refused = plant.run()
    # without the refusal Tuesday was built from 06:00 EST = 11:00 UTC: 05:00..11:00 UTC on Tuesday
    # belonged to no production day
    assert refused.returncode == 1, refused.stdout[-3000:]
    assert "  time zone: Europe/Berlin \u2192 America/New_York\n" in refused.stdout
    assert last_line(refused) == (
        "iiot-lakehouse: error: the production days' calendar changed (time zone: Europe/Berlin \u2192 "
        "America/New_York): 1 day, 2026-03-02 were built with the earlier one, and days built now would overlap "
        "them or leave hours in no production day; run `iiot-lakehouse run --rebuild-all` to rebuild every day "
        "with the new one"
    )
    assert len(_day_windows(plant)) == 1  # nothing was built
    assert "landing new files" not in refused.stdout  # nor landed

    rebuilt = plant.run("--rebuild-all")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    # 06:00 EST (UTC-5) is 11:00 UTC. Berlin's Monday, 03-02 05:00..03-03 05:00 UTC, lies in New York's
    # Sunday (from 03-01 11:00 UTC) and Monday; Tuesday is the new export's day. Each day ends where the
    # next begins.
    windows = [(dt.date(2026, 3, d), dt.datetime(2026, 3, d, 11, tzinfo=UTC)) for d in (1, 2, 3)]
    assert _day_windows(plant) == [(day, start, start + dt.timedelta(days=1)) for day, start in windows]
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        assert f"  production day {day}: ok\n" in rebuilt.stdout
    # both configurations are kept, the new one last
    history = _history(plant)
    assert [yaml.safe_load(text)["plant"]["timezone"] for text, _ in history] == ["Europe/Berlin", "America/New_York"]
    assert [day for _, day in history] == [dt.date(2026, 3, 2), dt.date(2026, 3, 1)]

    # the next run finds nothing changed and nothing to refuse
    again = plant.run()
    assert again.returncode == 0, again.stderr[-3000:]
    assert "plant config changed" not in again.stdout


def test_a_renamed_tag_is_said_with_the_days_built_before_and_applies_to_history_on_rebuild(tmp_path):
    plant = Plant(tmp_path)
    write_aveva(
        plant.landing / "historian" / "mon.csv",
        [r("2026-03-02 07:00:00", "L1.FILLER.State", 1), r("2026-03-02 08:00:00", "L1.FILLER.Total", 10)],
    )
    first = plant.run()
    assert first.returncode == 0, first.stderr[-3000:]

    # the historian renamed the state tag from Tuesday on; the YAML follows it
    renamed = one_machine_config()
    renamed["lines"][0]["machines"][0]["state_tag"] = "L1.FILLER.Status"
    _write_config(plant, renamed)
    write_aveva(
        plant.landing / "historian" / "tue.csv",
        [r("2026-03-03 07:00:00", "L1.FILLER.Status", 1), r("2026-03-03 08:00:00", "L1.FILLER.Total", 20)],
    )
    second = plant.run()
    assert second.returncode == 0, second.stderr[-3000:]
    assert (
        "plant config changed since the latest build:\n"
        "  tag renamed on L1/FILLER (state): L1.FILLER.State \u2192 L1.FILLER.Status\n"
        "  the points of L1.FILLER.State are read as the history of L1.FILLER.Status\n"
        "  affects the production days built (1 day, 2026-03-02): they keep the earlier config until rebuilt; "
        "days rebuilt now take the new one (`run --rebuild-all`, or `--start/--end`, applies it to them)\n"
    ) in second.stdout
    assert "  production day 2026-03-03: ok\n" in second.stdout
    history = _history(plant)
    assert [yaml.safe_load(t)["lines"][0]["machines"][0]["state_tag"] for t, _ in history] == [
        "L1.FILLER.State",
        "L1.FILLER.Status",
    ]
    # the next run has nothing new to say
    third = plant.run()
    assert "plant config changed" not in third.stdout


def test_a_day_rebuilt_after_a_tag_rename_keeps_its_availability(tmp_path):
    plant = Plant(tmp_path)
    write_aveva(
        plant.landing / "historian" / "mon.csv",
        [r("2026-03-02 07:00:00", "L1.FILLER.State", 1), r("2026-03-02 08:00:00", "L1.FILLER.Total", 10)],
    )
    assert plant.run().returncode == 0
    renamed = one_machine_config()
    renamed["lines"][0]["machines"][0]["state_tag"] = "L1.FILLER.Status"
    _write_config(plant, renamed)
    write_aveva(
        plant.landing / "historian" / "tue.csv",
        [r("2026-03-03 07:00:00", "L1.FILLER.Status", 1), r("2026-03-03 08:00:00", "L1.FILLER.Total", 20)],
    )
    assert plant.run().returncode == 0
    # The early shift 06:00..14:00 is 8 h planned. Monday, rebuilt with the new YAML (Tuesday's points close
    # its last state run): the machine runs from 07:00 (before it, no state: a stop), 7 h: 7 / 8 (reading only
    # the new name, 0 / 8). Tuesday: the state read under the earlier name, running since Monday 07:00, holds
    # until Status's first point at 07:00 (running too), so 8 h run: 8 / 8, as with one name on both days
    # (reading only the new name, the hour before 07:00 has no state: 7 / 8).
    assert _availability(plant) == [(dt.date(2026, 3, 2), 0.875), (dt.date(2026, 3, 3), 1.0)]

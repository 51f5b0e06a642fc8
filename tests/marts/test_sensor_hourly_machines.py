"""sensor_hourly names the line and machine of a tag a machine lists in its sensor_tags, NULL for a
plant-wide tag; listing a tag there leaves it a sensor (its figures are the same)."""

from __future__ import annotations

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import mart


def test_sensor_hourly_has_the_line_and_machine_of_a_machines_sensor(plant_factory):
    config = one_machine_config()
    config["lines"][0]["machines"][0]["sensor_tags"] = ["L1.FILLER.Temp"]
    plant = plant_factory(config)
    temp = [("06:00", 10), ("06:10", 10), ("06:20", 20), ("06:30", 20), ("06:40", 20), ("06:50", 20)]
    plant.export(
        "h.csv",
        [r("2026-03-02 05:00:00", "L1.FILLER.State", 1)]
        + [r(f"2026-03-02 {local}:00", "L1.FILLER.Temp", value) for local, value in temp]
        # a tag of the hall, no machine's: plant-wide
        + [r("2026-03-02 06:00:00", "HALL.Humidity", 50), r("2026-03-02 06:10:00", "HALL.Humidity", 50)],
    )
    plant.land()
    plant.build_day("2026-03-02")
    got = mart(
        plant,
        "select tag, line, machine, strftime(hour, '%H:%M'), mean, min, max, valid_s from sensor_hourly "
        "order by tag, hour",
    )
    # Berlin is UTC+1 in March: local 06:00 is 05:00 UTC. A value holds until the next reading, the last
    # one for sensor_max_gap_s = 900 s at most.
    #   HALL.Humidity: 50 from 05:00 to 05:25 UTC (05:10 + 900 s): 1,500 s in the 05:00 hour.
    #   L1.FILLER.Temp: 10 for 05:00-05:20 (1,200 s), 20 for 05:20-06:00 (2,400 s): mean
    #   (10 x 1,200 + 20 x 2,400) / 3,600 = 60,000 / 3,600; then 20 from 06:00 to 06:05 (05:50 + 900 s): 300 s.
    assert got == [
        ("HALL.Humidity", None, None, "05:00", 50.0, 50.0, 50.0, 1_500.0),
        ("L1.FILLER.Temp", "L1", "FILLER", "05:00", 60_000 / 3_600, 10.0, 20.0, 3_600.0),
        ("L1.FILLER.Temp", "L1", "FILLER", "06:00", 20.0, 20.0, 20.0, 300.0),
    ]

"""Power readings held until the next one, also when the next one lies beyond the look-ahead."""

from __future__ import annotations

from conftest import aveva_row as r
from conftest import mart, one_machine_config


def test_a_standby_power_reading_that_does_not_change_for_days_holds_through_the_day(plant_factory):
    config = one_machine_config(working_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    machine = config["lines"][0]["machines"][0]
    machine.pop("energy_kwh_tag")
    machine["power_kw_tag"] = "L1.FILLER.kW"
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-02 12:00:00", "L1.FILLER.kW", 10),
            r("2026-03-02 20:00:00", "L1.FILLER.kW", 0.5),  # standby; stored on change: the next reading
            r("2026-03-05 07:00:00", "L1.FILLER.kW", 12),  # comes after the look-ahead
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    rows = mart(
        plant, "select cast(day as varchar), round(kwh_total, 6) from energy_daily where level = 'machine' order by 1"
    )
    # 2 Mar: 10 kW 12:00-20:00 = 80 kWh, 0.5 kW 20:00-06:00 = 5 kWh; 3 Mar: 0.5 kW for 24 h = 12 kWh
    assert rows == [("2026-03-02", 85.0), ("2026-03-03", 12.0)]

"""Power readings held until the next one, but never across days without readings."""

from __future__ import annotations

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import mart


def test_a_standby_power_reading_is_not_held_through_days_without_readings(plant_factory):
    # Issue #13 part 2: this test used to expect the 0.5 kW standby reading held through 3 Mar (12 kWh)
    # and 2 Mar's last reading held to the day's end, with the next reading beyond the look-ahead: energy
    # nobody measured. Now a reading stands at most for the max gap; the configured case is in
    # tests/silver/test_energy_gaps.py::test_a_configured_max_gap_keeps_a_stored_on_change_reading_standing.
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
        plant,
        "select cast(day as varchar), round(kwh_total, 6), data_quality_ok from energy_daily "
        "where level = 'machine' order by 1",
    )
    # Each day sees 12:00 and 20:00 of 2 Mar (5 Mar lies beyond either look-ahead): typical interval 8 h,
    # max gap 24 h. The tag catalog knows a later reading (5 Mar 07:00), so the 20:00 reading is one before
    # a hole, not the last of its series: it stands for the max gap, 20:00 on 2 Mar to 20:00 on 3 Mar.
    # 2 Mar: 10 kW 12:00-20:00 = 80 kWh + 0.5 kW 20:00-06:00 (10 h) = 5 kWh: 85 kWh, with 06:00-12:00
    # unknown. 3 Mar: 0.5 kW 06:00-20:00 (14 h) = 7 kWh, 20:00-06:00 unknown.
    assert rows == [("2026-03-02", 85.0, False), ("2026-03-03", 7.0, False)]

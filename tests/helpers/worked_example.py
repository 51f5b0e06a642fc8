"""The worked OEE example: one machine's export for Monday 2026-03-02 and the oee_daily row derived by hand
from it, which every storage, format and publishing path must give."""

from __future__ import annotations

from tests.helpers.exports import aveva_row as r

# Monday 2026-03-02, Europe/Berlin (UTC+1). One shift 06:00-14:00 = 480 min with two 30 min breaks
# (09:00-09:30, 12:00-12:30) = 60 min: planned production time 420 min = 25,200 s.
# Unplanned stops inside planned time: 07:00-07:30 (30 min) + 13:00-13:17 (17 min) = 47 min,
# so run time = 373 min = 22,380 s.
# Counts inside planned time: +10,000 at 08:00 and +9,271 at 11:00 = 19,271 total;
# rejects +200 and +223 = 423; good = 18,848.
# Counts outside planned time must not count: +100 in the 09:00 break, +50 after the shift.
# availability = 22380 / 25200 = 0.888095 -> 88.81 %
# performance  = 1.0 * 19271 / 22380 = 0.861081 -> 86.11 %
# quality      = 18848 / 19271 = 0.978050 -> 97.80 %
# oee          = 0.888095 * 0.861081 * 0.978050 = 0.747936 -> 74.79 %
ROWS = [
    r("2026-03-01 22:00:00", "L1.FILLER.State", 1),  # carried in from before the day
    r("2026-03-02 05:59:00", "L1.FILLER.Total", 1000),
    r("2026-03-02 05:59:00", "L1.FILLER.Reject", 50),
    r("2026-03-02 07:00:00", "L1.FILLER.State", 3),
    r("2026-03-02 07:30:00", "L1.FILLER.State", 1),
    r("2026-03-02 08:00:00", "L1.FILLER.Total", 11000),
    r("2026-03-02 08:00:00", "L1.FILLER.Reject", 250),
    r("2026-03-02 09:15:00", "L1.FILLER.Total", 11100),
    r("2026-03-02 11:00:00", "L1.FILLER.Total", 20371),
    r("2026-03-02 11:00:00", "L1.FILLER.Reject", 473),
    r("2026-03-02 13:00:00", "L1.FILLER.State", 3),
    r("2026-03-02 13:17:00", "L1.FILLER.State", 1),
    r("2026-03-02 14:00:00", "L1.FILLER.State", 4),
    r("2026-03-02 14:30:00", "L1.FILLER.Total", 20421),
]


def assert_worked_example_oee(row: dict) -> None:
    """The worked example's oee_daily row, as derived above; every storage and format must give it."""
    assert row["calendar_time_s"] == 86_400
    assert row["scheduled_time_s"] == 28_800
    assert row["break_time_s"] == 3_600
    assert row["planned_production_time_s"] == 25_200
    assert row["run_time_s"] == 22_380
    assert row["unplanned_stop_time_s"] == 2_820
    assert row["planned_stop_time_s"] == 0
    assert (row["total_count"], row["reject_count"], row["good_count"]) == (19_271, 423, 18_848)
    assert round(row["availability"], 4) == 0.8881
    assert round(row["performance"], 4) == 0.8611
    assert round(row["quality"], 4) == 0.9780
    assert round(row["oee"], 4) == 0.7479

"""The day watermark keeps a day whose marts failed the audit "to be rebuilt" (assets/silver/watermarks.py).

A plant edit or a changed mart can make a day fail its audit with silver no newer than its last published
marts: the failure itself, recorded by the publish, keeps the day stale until a publish of it passes.
"""

from __future__ import annotations

import datetime as dt

from assets.plant.config import parse_plant_config
from assets.silver import watermarks
from tests.helpers.plant import one_machine_config

DAY = dt.date(2026, 3, 2)


def test_a_day_whose_publish_failed_its_audit_stays_stale_until_a_publish_passes(tmp_path):
    root, config = str(tmp_path / "lakehouse"), parse_plant_config(one_machine_config())
    t0 = watermarks.now()
    for table in watermarks.SILVER_TABLES:
        watermarks.record_builds(root, "silver", table, [DAY], t0)
    # published after its silver: built, nothing to do
    watermarks.record_builds(root, "marts", watermarks.MARTS_TABLE, [DAY], watermarks.now())
    assert watermarks.stale_days(root, config) == []

    # a later publish of the day fails its audit, silver unchanged
    watermarks.record_builds(root, watermarks.MARTS_FAILED_LAYER, watermarks.MARTS_TABLE, [DAY], watermarks.now())
    (stale,) = watermarks.stale_days(root, config)
    assert stale.day == DAY
    assert stale.reason.startswith("its marts failed the audit at ")
    assert stale.reason.endswith(" (the published marts keep its previous numbers)")
    assert watermarks.read_builds(root)[DAY].failing

    # a publish of the day that passes clears it
    watermarks.record_builds(root, "marts", watermarks.MARTS_TABLE, [DAY], watermarks.now())
    assert watermarks.stale_days(root, config) == []
    assert not watermarks.read_builds(root)[DAY].failing

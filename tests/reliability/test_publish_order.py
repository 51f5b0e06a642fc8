"""Days published in any order give the same marts, bit for bit: a backfill fanned out over workers
publishes its days in whatever order their runs finish."""

from __future__ import annotations

import datetime as dt

from assets.marts.audit import audit_published_marts
from assets.marts.inputs import silver_days
from assets.marts.publish import publish_marts
from assets.marts.published import marts_path
from assets.plant.config import load_plant_config
from tests.helpers.demo import DAYS, PLANT_CONFIG
from tests.helpers.lakehouse import copy_lakehouse
from tests.helpers.tables import marts_rows


def publish_in_order(lake, order: list[str]) -> dict:
    config = load_plant_config(PLANT_CONFIG)
    available = set(silver_days(str(lake)))
    for key in order:
        day = dt.date.fromisoformat(key)
        # what mart__oee_daily publishes for a day: the day before (when silver has it) and the day
        before = day - dt.timedelta(days=1)
        publish_marts(str(lake), config, [before, day] if before in available else [day])
    return marts_rows(marts_path(str(lake)))


def test_days_published_in_any_order_give_identical_marts(tmp_path, silver_demo):
    in_order = publish_in_order(copy_lakehouse(silver_demo[0], tmp_path / "a"), DAYS)
    shuffled = publish_in_order(copy_lakehouse(silver_demo[0], tmp_path / "b"), [DAYS[2], DAYS[0], DAYS[1]])
    assert set(in_order) == set(shuffled)
    assert len(in_order["downtime_pareto"]) > 0 and len(in_order["reliability_monthly"]) == 6
    for name in sorted(in_order):
        assert shuffled[name] == in_order[name], name


def test_the_demo_plant_passes_the_audit_on_every_machine_line_and_site_day(tmp_path, silver_demo):
    """The audit that guards every publish finds nothing on the demo plant, and it did look at every row."""
    lake = copy_lakehouse(silver_demo[0], tmp_path / "lake")
    config = load_plant_config(PLANT_CONFIG)
    days = [dt.date.fromisoformat(d) for d in DAYS]
    publish_marts(str(lake), config, days)  # raises MartsAuditError if a rebuilt day fails
    assert audit_published_marts(str(lake), config, days) == []
    rows = marts_rows(marts_path(str(lake)))
    # 6 machines on 2 lines at 1 site, over 3 days: 18 machine-, 6 line- and 3 site-days audited
    assert (len(rows["oee_daily"]), len(rows["oee_line_daily"]), len(rows["oee_site_daily"])) == (18, 6, 3)

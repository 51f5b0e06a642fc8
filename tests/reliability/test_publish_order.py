"""Days published in any order give the same marts, bit for bit: a backfill fanned out over workers
publishes its days in whatever order their runs finish."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets.marts.assets import build_mart_assets
from assets.marts.audit import audit_published_marts
from assets.marts.inputs import silver_days
from assets.marts.publish import publish_marts
from assets.marts.published import marts_path
from assets.plant.config import load_plant_config
from orchestration.partitions import production_day_partitions
from orchestration.resources import LakehouseResource
from tests.helpers import workers
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


def test_a_day_published_before_the_day_before_it_was_built_is_rebuilt_with_it(tmp_path, landed_demo, children):
    """What a backfill on several workers does: the third day's silver and marts are built while the
    second day's are not yet. The third day's first changeover, from the product the second day ended
    with, is then not seen, and its stops count as unplanned. Publishing the second day rebuilds the
    third, and the marts equal those of the days built in order, bit for bit: the third day's silver,
    written before the second's, is read in another order, and times add up in whole microseconds."""
    lake, landing = copy_lakehouse(landed_demo[0], tmp_path / "lake"), landed_demo[1]
    resource = LakehouseResource(lakehouse_root=str(lake), landing_root=str(landing), plant_config=PLANT_CONFIG)
    marts = build_mart_assets(production_day_partitions(resource.plant()))

    def publish(day: str) -> None:
        result = dg.materialize(marts, partition_key=day, resources={"lakehouse": resource}, run_config=workers.QUIET)
        assert result.success

    for day in (DAYS[0], DAYS[2], DAYS[1]):
        assert children.run(workers.materialize_days, str(lake), str(landing), PLANT_CONFIG, [day]) == 0
        publish(day)
    out_of_order = marts_rows(marts_path(str(lake)))

    reference = copy_lakehouse(landed_demo[0], tmp_path / "reference")
    assert children.run(workers.materialize_days, str(reference), str(landing), PLANT_CONFIG, DAYS) == 0
    in_order = publish_in_order(reference, DAYS)
    # the night shift 22:00-06:00 of the second day runs on into the third: its running sums go on
    for name in sorted(in_order):
        assert out_of_order[name] == in_order[name], name

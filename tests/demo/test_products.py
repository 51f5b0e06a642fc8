"""The demo plant's products: L1's product tags in the historian export, L2's orders export, the changeovers
between runs, and counters that advance at the rate of the product running."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assets.demo.generator import write_demo_exports
from assets.plant.config import DEFAULT_PLANT_CONFIG, PlantConfig, load_plant_config
from tests.helpers.demo import DEMO_START

TZ = ZoneInfo("Europe/Berlin")
FMT = "%Y-%m-%d %H:%M:%S.%f"
DAYS = 5  # Monday 2026-03-02 .. Friday 03-06: every day a working day


@pytest.fixture(scope="module")
def config() -> PlantConfig:
    return load_plant_config(DEFAULT_PLANT_CONFIG)


@pytest.fixture(scope="module")
def written(config, tmp_path_factory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("products")
    return root, write_demo_exports(root, config, DEMO_START, days=DAYS, seed=7)


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


def _orders(root: Path) -> list[dict[str, str]]:
    out = []
    for path in sorted((root / "orders").iterdir()):
        with path.open(encoding="utf-8", newline="") as f:
            out.extend(csv.DictReader(f))
    return out


def test_the_demo_plant_has_three_products_a_product_tag_on_l1_and_orders_for_l2(config):
    assert [p.id for p in config.products] == ["033", "050", "100"]
    # Three different rates on the same machine, and the packer's own per product.
    l1_filler = next(m for m in config.machines if (m.line, m.name) == ("L1", "FILLER"))
    packer = next(m for m in config.machines if m.name == "PACKER")
    assert len({config.ideal_cycle_time_s(l1_filler, p.id) for p in config.products}) == 3
    assert [config.ideal_cycle_time_s(packer, p.id) for p in config.products] == [2.4, 3.0, 4.0]
    assert [bool(m.product_tag) for m in config.machines if m.line == "L1"] == [True, True, True]
    assert not any(m.product_tag for m in config.machines if m.line == "L2")
    assert [(s.format, s.folder) for s in config.sources if s.format == "orders_csv"] == [("orders_csv", "orders")]
    assert config.changeovers.target_s("033", "100") == 2400 and config.changeovers.target_s("100", "033") == 1800


def test_orders_files_one_per_day_with_two_or_three_orders_of_changing_products(written):
    root, paths = written
    names = [p.name for p in paths if p.parent.name == "orders"]
    assert names == [f"Orders_{DEMO_START + dt.timedelta(days=i):%Y%m%d}.csv" for i in range(DAYS)]
    header = (root / "orders" / names[0]).read_text(encoding="utf-8").split("\n", 1)[0]
    assert header == "order_id,product,line,machine,planned_qty,planned_start,planned_end,actual_start,actual_end"
    orders = _orders(root)
    per_day = Counter(o["order_id"].rsplit("-", 1)[0] for o in orders)
    assert set(per_day.values()) <= {2, 3} and len(per_day) == DAYS, per_day
    assert {o["line"] for o in orders} == {"L2"} and {o["machine"] for o in orders} == {""}
    assert {o["product"] for o in orders} == {"033", "050", "100"}
    for o in orders:
        times = [
            dt.datetime.fromisoformat(o[k]) for k in ("planned_start", "planned_end", "actual_start", "actual_end")
        ]
        assert all(t.utcoffset() == dt.timedelta(hours=1) for t in times), o  # March, before the clocks change
        assert times[0] < times[1] and times[2] < times[3] and int(o["planned_qty"]) > 0, o
    # Orders of a day follow each other: each starts where the one before ended, with another product.
    for a, b in zip(orders, orders[1:], strict=False):
        if a["order_id"].rsplit("-", 1)[0] == b["order_id"].rsplit("-", 1)[0]:
            assert a["actual_end"] == b["actual_start"] and a["product"] != b["product"], (a, b)


def test_an_order_runs_across_midnight(written):
    root, _paths = written
    across = []
    for o in _orders(root):
        start, end = (dt.datetime.fromisoformat(o[k]).astimezone(TZ) for k in ("actual_start", "actual_end"))
        if start.date() < end.date():
            across.append(o["order_id"])
    # Each working day's last order runs through the night shift (22:00 - 06:00).
    assert across == [f"L2-{DEMO_START + dt.timedelta(days=i):%Y%m%d}-{n}" for i, n in enumerate(_last_numbers(root))]


def _last_numbers(root: Path) -> list[int]:
    last: dict[str, int] = {}
    for o in _orders(root):
        day, n = o["order_id"].rsplit("-", 1)
        last[day] = max(last.get(day, 0), int(n))
    return [last[k] for k in sorted(last)]


def _product_rows(config: PlantConfig, paths: list[Path]) -> dict[str, list[tuple[dt.datetime, str]]]:
    """Each L1 product tag's rows (local wall clock, vValue) over the daily files, after each file's initial row."""
    tags = {m.product_tag for m in config.machines if m.product_tag}
    out: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for path in paths:
        if path.parent.name != "historian" or path.stem.endswith("_reexport"):
            continue
        for r in _rows(path):
            if r[1] in tags:
                # a string tag: Value empty, its text in vValue
                assert r[2] == "" and (r[3] in {"033", "050", "100"} or r[4] == "1"), r
                if r[3]:
                    out[r[1]].append((dt.datetime.strptime(r[0], FMT), r[3]))
    return out


def test_l1_product_tags_switch_once_per_changeover_on_every_machine(config, written):
    _root, paths = written
    rows = _product_rows(config, paths)
    assert set(rows) == {"L1.FILLER.Product", "L1.CAPPER.Product", "L1.LABELER.Product"}
    switches = {}
    for tag, values in rows.items():
        changes = [(t, v) for i, (t, v) in enumerate(values) if i == 0 or v != values[i - 1][1]]
        switches[tag] = changes
        # one to three product switches a working day (two or three runs, maybe a changeover at 06:00)
        assert DAYS <= len(changes) - 1 <= 3 * DAYS, (tag, changes)
    # The machines of the line switch together (within a minute and a half) to the same products.
    filler, capper, labeler = (switches[f"L1.{m}.Product"] for m in ("FILLER", "CAPPER", "LABELER"))
    assert [v for _t, v in filler] == [v for _t, v in capper] == [v for _t, v in labeler]
    for (a, _), (b, _), (c, _) in zip(filler[1:], capper[1:], labeler[1:], strict=True):
        assert max(a, b, c) - min(a, b, c) <= dt.timedelta(seconds=90)


def _state_and_count_rows(config: PlantConfig, machine, paths: list[Path]) -> list[list[str]]:
    out = []
    for path in paths:
        if path.parent.name == "historian" and not path.stem.endswith("_reexport"):
            out += [r for r in _rows(path) if r[1] in {machine.state_tag, machine.total_count_tag, machine.product_tag}]
    return out


def test_l1_machines_stop_for_a_changeover_at_each_product_switch_and_count_nothing_of_the_new_product_before(
    config, written
):
    # From the file alone: after each switch of the product tag the machine's next planned stop is the
    # changeover (code 2) - at the switch itself, or after the break the switch fell in - and the total
    # counter stays still from the switch until then.
    _root, paths = written
    for machine in (m for m in config.machines if m.product_tag):
        rows = _state_and_count_rows(config, machine, paths)
        product, state, counts_since_switch, checked = None, None, None, 0
        for r in rows:
            if r[1] == machine.product_tag and r[3]:
                if product is not None and r[3] != product:
                    counts_since_switch = []
                    switched = dt.datetime.strptime(r[0], FMT)
                product = r[3]
            elif r[1] == machine.state_tag and r[2]:
                state = r[2]
                if counts_since_switch is not None and state == "2":
                    assert dt.datetime.strptime(r[0], FMT) - switched <= dt.timedelta(minutes=31), r
                    assert counts_since_switch == [], (machine.name, r)
                    counts_since_switch, checked = None, checked + 1
            elif r[1] == machine.total_count_tag and counts_since_switch is not None:
                counts_since_switch.append(r)
        assert checked >= DAYS, (machine.name, checked)


def test_counters_advance_at_each_products_rate(config, written):
    # L1 FILLER makes 033 at 0.4 s, 050 at 0.5 s and 100 at 0.75 s a unit. Over each product's running
    # time (from the file: state 1 between rows, counts between the first and last row of the run)
    # units per running second are about 1/0.4, 1/0.5, 1/0.75 times the day's performance (87-93 %,
    # hourly speed +-3 %): the rate over ideal rate lies in 0.80..0.97 for every product.
    _root, paths = written
    machine = next(m for m in config.machines if (m.line, m.name) == ("L1", "FILLER"))
    cycle = {"033": 0.4, "050": 0.5, "100": 0.75}
    rows = _state_and_count_rows(config, machine, paths)
    run_s: dict[str, float] = defaultdict(float)
    units: dict[str, int] = defaultdict(int)
    product, state, since, last_count = None, None, None, None
    rollover = int(machine.counter_rollover)
    for r in rows:
        t = dt.datetime.strptime(r[0], FMT)  # no clock change in these days: wall clock = elapsed time
        if r[1] == machine.product_tag and r[3]:
            product = r[3]
        elif r[1] == machine.state_tag and r[2]:
            if state == "1" and since is not None:
                run_s[product] += (t - since).total_seconds()
            state, since = r[2], t
        elif r[1] == machine.total_count_tag and r[2]:
            value = int(r[2])
            if last_count is not None:
                step = value - last_count
                units[product] += (
                    step if step >= 0 else (value + rollover - last_count if last_count > rollover - 2_000 else value)
                )
            last_count = value
    assert set(run_s) == set(cycle)
    for p, ict in cycle.items():
        assert run_s[p] > 3600, (p, run_s[p])
        assert 0.80 <= units[p] * ict / run_s[p] <= 0.97, (p, units[p] * ict / run_s[p])


def test_a_demo_of_a_weekend_has_the_orders_folder_though_no_order(tmp_path):
    config = load_plant_config(DEFAULT_PLANT_CONFIG)
    # Saturday 2026-03-07 and Sunday 2026-03-08: no shift, so no order; the run still needs the folder
    paths = write_demo_exports(tmp_path, config, dt.date(2026, 3, 7), days=2, seed=7)
    assert [p.parent.name for p in paths] == ["historian", "historian"]
    assert (tmp_path / "orders").is_dir() and not any((tmp_path / "orders").iterdir())

"""Every export format the demo can write reads back into the same points, and lands into the same OEE."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from assets.demo.formats import FORMATS, PI_BAD_STATE, Point, source_options_for, write_points
from assets.demo.generator import demo_source, write_demo_exports
from assets.plant.config import DEFAULT_PLANT_CONFIG, Source, load_plant_config
from assets.readers import read_source_file
from assets.readers.archives import open_single
from orchestration.cli import run as cli_run
from tests.helpers.plant import one_machine_config
from tests.helpers.worked_example import ROWS, assert_worked_example_oee

UTC = dt.UTC
BERLIN = "Europe/Berlin"
PI_FORMATS = ("pi_csv", "pi_webapi_json")


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# Saturday night 2026-10-24/25 in Berlin: 02:00-03:00 local happens twice, 00:00-01:00 UTC (summer time)
# and 01:00-02:00 UTC (winter time).
TRICKY = [
    Point("L1.FILLER.Total", utc(2026, 10, 24, 21, 59, 59, 250_000), 1500.0),  # milliseconds
    Point("L1.FILLER.Total", utc(2026, 10, 24, 22, 0, 30, 123_456), 1501.5, quality="uncertain"),  # microseconds
    Point("L1.FILLER.Reject", utc(2026, 10, 24, 22, 1), None, quality="bad"),  # value lost
    Point("L1.FILLER.Mode", utc(2026, 10, 24, 22, 0), text="Running"),  # a digital state as text
    Point("L1.FILLER.Mode", utc(2026, 10, 24, 23, 0), text="Stopped"),
    Point("L1.FILLER.Reject", utc(2026, 10, 24, 23, 0), 12.0),
    # Both passes of the repeated hour, in true order: 02:30 summer time, then 02:10 winter time.
    Point("L1.FILLER.kWh", utc(2026, 10, 25, 0, 30), 41.25),
    Point("L1.FILLER.kWh", utc(2026, 10, 25, 1, 10), 43.0),
    Point("L1.FILLER.kWh", utc(2026, 10, 25, 2, 0), 44.5),
    # One point in the second pass only: its row order cannot tell, so the writer gives its offset.
    Point("L1.FILLER.Temp", utc(2026, 10, 25, 1, 45), -3.5e-7),
]

# (format, source options, write epoch times)
CASES = [
    ("aveva_historian_csv", None, False),
    ("pi_csv", None, False),
    ("pi_csv", {"delimiter": ";", "encoding": "latin-1", "status_column": "Status"}, False),
    ("pi_webapi_json", None, False),
    ("pi_webapi_json", {"tag_field": "Path"}, False),
    ("ignition_wide_csv", None, False),
    ("ignition_wide_csv", None, True),
    ("ignition_tall_csv", None, False),
    ("ignition_tall_csv", None, True),
    ("proficy_csv", None, False),
    ("sensor_jsonl", None, False),
    ("sensor_jsonl", {"ts_field": "time", "device_field": "id", "metrics_field": "values"}, True),
    ("sensor_csv", None, False),
    ("sensor_csv", {"delimiter": "\t", "encoding": "utf-16", "timestamp_format": "%d.%m.%Y %H:%M:%S.%f"}, False),
    ("sensor_parquet", None, False),
    ("sensor_parquet", {"timestamp_column": "time", "value_column": "v"}, True),
]


def carried(fmt: str, points: list[Point]) -> list[Point]:
    """The tricky points a format can carry (wide formats have no quality column; sensor CSV numbers only)."""
    traits = FORMATS[fmt]
    return [p for p in points if (traits.quality or p.quality == "good") and (traits.text or p.text is None)]


def as_points(batch) -> list[Point]:
    return [Point(r["tag"], r["ts"], r["value"], r["value_text"], r["quality"]) for r in batch.points.to_pylist()]


def read_back(path: Path, fmt: str, options: dict | None) -> tuple[list[Point], list]:
    source = Source(name="src", format=fmt, folder="x", timezone=BERLIN, options=options or source_options_for(fmt))
    points, rejects = [], []
    for batch in read_source_file(source, open_single(path)):
        points += as_points(batch)
        rejects += batch.rejects.to_pylist()
    return sorted(points, key=lambda p: (p.ts, p.tag)), rejects


@pytest.mark.parametrize(("fmt", "options", "epoch"), CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_every_format_reads_back_the_points_it_was_written_from(tmp_path, fmt, options, epoch):
    points = carried(fmt, TRICKY)
    if epoch:  # epoch milliseconds carry no microseconds
        points = [p._replace(ts=p.ts.replace(microsecond=p.ts.microsecond // 1000 * 1000)) for p in points]
    path = write_points(tmp_path / f"export{FORMATS[fmt].extension}", fmt, points, BERLIN, options, epoch=epoch)

    got, rejects = read_back(path, fmt, options)

    expected = sorted(points, key=lambda p: (p.ts, p.tag))
    if fmt in PI_FORMATS:  # PI archives a system digital state for a lost value
        expected = [p._replace(text=PI_BAD_STATE) if p.quality == "bad" else p for p in expected]
    assert rejects == []
    assert got == expected
    assert not list(tmp_path.glob("*.part"))


def test_local_times_are_wall_clock_and_the_repeated_hour_in_true_order(tmp_path):
    path = write_points(tmp_path / "pi.csv", "pi_csv", TRICKY, BERLIN)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Tag,Timestamp,Value,Questionable,Substituted"
    assert "L1.FILLER.Total,24-Oct-26 23:59:59.250,1500,False,False" in lines
    assert "L1.FILLER.Reject,25-Oct-26 00:01:00,Bad Input,False,False" in lines
    kwh = [line.split(",")[1] for line in lines if line.startswith("L1.FILLER.kWh")]
    assert kwh == ["25-Oct-26 02:30:00", "25-Oct-26 02:10:00", "25-Oct-26 03:00:00"]
    assert [line for line in lines if line.startswith("L1.FILLER.Temp")] == [
        "L1.FILLER.Temp,2026-10-25T02:45:00+01:00,-3.5e-07,False,False"
    ]


def test_spring_forward_night_never_writes_a_time_in_the_gap(tmp_path):
    # 2026-03-29 in Berlin: 02:00-03:00 local does not exist.
    points = [Point("L1.FILLER.kWh", utc(2026, 3, 29, 0, 0) + dt.timedelta(minutes=m), float(m)) for m in range(120)]
    path = write_points(tmp_path / "export.csv", "proficy_csv", points, BERLIN)
    stamps = [line.split(",")[1] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("L1.")]
    assert not [s for s in stamps if s.startswith("03/29/2026 02:")]
    # in the demo's Proficy timestamp_format, %m/%d/%Y %H:%M:%S.%f
    assert stamps[59:61] == ["03/29/2026 01:59:00.000000", "03/29/2026 03:00:00.000000"]
    assert read_back(path, "proficy_csv", None)[0] == points


def test_what_a_format_cannot_carry_is_refused_or_written_as_its_system_would(tmp_path):
    bad = Point("L1.FILLER.Total", utc(2026, 3, 2, 6), None, quality="bad")
    doubtful = Point("L1.FILLER.Total", utc(2026, 3, 2, 7), 5.0, quality="uncertain")
    state = Point("L1.FILLER.Mode", utc(2026, 3, 2, 6), text="Running")
    with pytest.raises(ValueError, match="no quality column"):
        write_points(tmp_path / "a.csv", "ignition_wide_csv", [bad], BERLIN)
    with pytest.raises(ValueError, match="numbers only"):
        write_points(tmp_path / "a.csv", "sensor_csv", [state], BERLIN)
    with pytest.raises(ValueError, match="system digital state"):
        write_points(tmp_path / "a.csv", "pi_csv", [bad._replace(value=3.0)], BERLIN)
    with pytest.raises(ValueError, match="DEVICE.metric"):
        write_points(tmp_path / "a.jsonl", "sensor_jsonl", [state._replace(tag="FILLER")], BERLIN)
    with pytest.raises(ValueError, match="epoch unit"):
        write_points(
            tmp_path / "a.csv", "ignition_tall_csv", [doubtful._replace(ts=utc(2026, 3, 2, 7, 0, 0, 1))], epoch=True
        )

    path = write_points(tmp_path / "b.csv", "sensor_csv", [bad, doubtful, state], BERLIN, lossy=True)
    assert read_back(path, "sensor_csv", None)[0] == [doubtful._replace(quality="good")]


# ---- the worked example (tests/helpers/worked_example.py), in every format -----------------------


def worked_example_points() -> list[Point]:
    """The worked example's AVEVA rows as points (all good; states and counters are numbers)."""
    berlin = ZoneInfo(BERLIN)
    points = []
    for row in ROWS:
        when, tag, value = row.split(",")[:3]
        local = dt.datetime.strptime(when, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=berlin)
        points.append(Point(tag, local.astimezone(UTC), float(value)))
    return points


@pytest.mark.parametrize("fmt", [fmt for fmt, traits in FORMATS.items() if traits.points])
def test_worked_example_gives_the_same_oee_in_every_format(plant_factory, fmt):
    config = one_machine_config(
        breaks=[
            {"name": "breakfast", "start": "09:00", "end": "09:30"},
            {"name": "lunch", "start": "12:00", "end": "12:30"},
        ]
    )
    options = source_options_for(fmt)
    config["sources"] = [{"name": "export", "format": fmt, "folder": fmt, "timezone": BERLIN, "options": options}]
    plant = plant_factory(config)
    write_points(plant.landing / fmt / f"export_20260302{FORMATS[fmt].extension}", fmt, worked_example_points(), BERLIN)

    plant.land()
    plant.build_day("2026-03-02")

    assert_worked_example_oee(plant.oee("2026-03-02"))


# ---- the demo plant in other formats -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_config():
    return load_plant_config(DEFAULT_PLANT_CONFIG)


@pytest.fixture(scope="module")
def aveva_demo(demo_config, tmp_path_factory) -> list[Point]:
    """The demo's AVEVA points from Friday 2026-10-23 over the autumn night (energy is stored every minute)."""
    root = tmp_path_factory.mktemp("aveva")
    paths = write_demo_exports(root, demo_config, dt.date(2026, 10, 23), days=2, seed=5)
    historian = [p for p in paths if p.parent.name == "historian"]  # beside the orders export
    return read_files(historian, demo_source(demo_config, "aveva_historian_csv"))


def read_files(paths: list[Path], source: Source) -> list[Point]:
    points = []
    for path in paths:
        for batch in read_source_file(source, open_single(path)):
            assert batch.rejects.num_rows == 0, batch.rejects.to_pylist()[:3]
            points += as_points(batch)
    return sorted(points)


@pytest.mark.parametrize("fmt", ["pi_webapi_json", "ignition_wide_csv", "sensor_jsonl"])
def test_demo_plant_in_another_format_lands_the_same_points(demo_config, aveva_demo, tmp_path, fmt):
    paths = write_demo_exports(tmp_path, demo_config, dt.date(2026, 10, 23), days=2, seed=5, fmt=fmt)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        f"{fmt}/History_2026102{day}{FORMATS[fmt].extension}" for day in (3, 4)
    ]

    got = read_files(paths, demo_source(demo_config, fmt))

    expected = aveva_demo
    # A product id ("050") is text in AVEVA's vValue; a text that reads as a number is refused by the other
    # writers, so it goes as the number (50), which a product tag matches to the id as well.
    products = {m.product_tag for m in demo_config.machines if m.product_tag}
    expected = [p._replace(value=float(p.text), text=None) if p.tag in products and p.text else p for p in expected]
    if fmt == "pi_webapi_json":  # a lost value is PI's system state
        expected = [p._replace(text=PI_BAD_STATE) if p.quality == "bad" else p for p in expected]
    if fmt == "ignition_wide_csv":  # no quality column: a lost value is an empty cell, a doubtful one plain
        expected = [p._replace(quality="good") for p in expected if p.quality != "bad"]
    assert any(p.quality == "bad" for p in aveva_demo)
    assert got == expected


def test_demo_command_writes_a_format_and_prints_the_source_to_add(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LANDING_ROOT", str(tmp_path / "landing"))
    monkeypatch.setenv("PLANT_CONFIG", str(DEFAULT_PLANT_CONFIG))

    assert cli_run(["demo", "--days", "1", "--start", "2026-03-02", "--format", "sensor_csv", "--seed", "3"]) == 0

    out = capsys.readouterr().out
    assert "wrote 1 sensor_csv export files for 1 production days from 2026-03-02" in out
    assert (tmp_path / "landing" / "sensor_csv" / "History_20260302.csv").is_file()
    snippet = yaml.safe_load(out[out.index("  - name:") :])
    assert snippet == [
        {
            "name": "sensor_csv",
            "format": "sensor_csv",
            "folder": "sensor_csv",
            "timezone": "Europe/Berlin",
            "options": {"delimiter": ";", "decimal_comma": True},
        }
    ]
    config = yaml.safe_load(DEFAULT_PLANT_CONFIG.read_text(encoding="utf-8"))
    config["sources"] = snippet
    (tmp_path / "plant.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert load_plant_config(tmp_path / "plant.yaml").sources[0].options["decimal_comma"] is True

    # Once the config has the source, the demo writes into its folder and prints nothing to add.
    monkeypatch.setenv("PLANT_CONFIG", str(tmp_path / "plant.yaml"))
    assert cli_run(["demo", "--days", "1", "--start", "2026-03-02", "--format", "sensor_csv"]) == 0
    assert "Add this source" not in capsys.readouterr().out

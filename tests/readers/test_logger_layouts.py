"""Logger layouts plants actually have (issue #13, section 10), landed end to end with the real assets.

Each export is written here as the logger writes it: a Campbell Scientific TOA5 file, a HOBOware export,
and a logger whose header sits below a preamble with a units line and a comment before the data. The
expected points, quarantine rows, units and ledger counts are worked out by hand from the text, next to
each assertion.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers.exports import aveva_row
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import silver

UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def logger_plant(plant_factory, options: dict | None = None, timezone: str = "Europe/Berlin"):
    """The one-machine plant with its logger source: a sensor_csv folder `loggers` (the machine's own tags
    are not in these files; the logger's channels land as unmapped tags)."""
    config = one_machine_config(timezone=timezone)
    source = {"name": "loggers", "format": "sensor_csv", "folder": "loggers"}
    if options:
        source["options"] = options
    config["sources"] = [source]
    return plant_factory(config)


def write(plant, name: str, text: str, newline: str = "\n", encoding: str = "utf-8") -> None:
    folder = plant.landing / "loggers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.replace("\n", newline).encode(encoding))


def points(plant) -> list[tuple]:
    return silver(plant, "bronze_historian__points", "select tag, ts, value, source_line from t order by tag, ts")


def quarantine(plant) -> list[tuple]:
    return silver(plant, "bronze__quarantine", "select line, reason, raw from t order by line, raw")


def catalog_units(plant) -> list[tuple]:
    return silver(plant, "bronze__tag_catalog", "select tag, points, unit from t order by tag")


def ledger(plant) -> tuple:
    """The file's ledger row: status, values in (rows_in), lines in, landed, quarantined, message."""
    (row,) = silver(
        plant,
        "bronze__file_ledger",
        "select status, rows_in, lines_in, rows_landed, rows_quarantined, message from t",
    )
    return row


# A Campbell Scientific CR1000X table as LoggerNet writes it (CRLF): the station line, field names, units,
# processing, then data. Strings and NAN are quoted, numbers are not.
TOA5 = """\
"TOA5","Roof_Weather","CR1000X","48211","CR1000X.Std.05.02","CPU:roof.CR1X","61285","Table10min"
"TIMESTAMP","RECORD","BattV_Min","AirT_C_Avg","RH","WindDir"
"TS","RN","Volts","Deg C","%","degrees"
"","","Min","Avg","Smp","Smp"
"2026-03-02 06:00:00",120,12.61,4.52,81.3,270
"2026-03-02 06:10:00",121,12.6,"NAN",82.1,265
"2026-03-02 06:20:00",122,12.59,4.71,"NAN",260
"""


def test_a_campbell_toa5_file_lands_without_options(plant_factory):
    plant = logger_plant(plant_factory)
    write(plant, "CR1000X_Table10min.dat", TOA5, newline="\r\n")
    plant.land()

    # 2 March 2026 is winter time in Berlin (UTC+1): 06:00 local is 05:00 UTC. RECORD (120, 121, 122) is the
    # logger's line counter, not a channel: it does not land. Data lines are the physical lines 5, 6 and 7.
    t0, t1, t2 = utc(2026, 3, 2, 5, 0), utc(2026, 3, 2, 5, 10), utc(2026, 3, 2, 5, 20)
    assert points(plant) == [
        ("AirT_C_Avg", t0, 4.52, 5),
        ("AirT_C_Avg", t2, 4.71, 7),
        ("BattV_Min", t0, 12.61, 5),
        ("BattV_Min", t1, 12.6, 6),
        ("BattV_Min", t2, 12.59, 7),
        ("RH", t0, 81.3, 5),
        ("RH", t1, 82.1, 6),
        ("WindDir", t0, 270.0, 5),
        ("WindDir", t1, 265.0, 6),
        ("WindDir", t2, 260.0, 7),
    ]
    # "NAN" is the logger's missing value: like every non-finite value in a channel, quarantined with the
    # reason, on its physical line (6: AirT at 06:10; 7: RH at 06:20).
    assert quarantine(plant) == [
        (6, "Value is not finite: NAN", "2026-03-02 06:10:00,AirT_C_Avg=NAN"),
        (7, "Value is not finite: NAN", "2026-03-02 06:20:00,RH=NAN"),
    ]
    # Line 3 gives each channel's unit; the tag catalog keeps it.
    assert catalog_units(plant) == [
        ("AirT_C_Avg", 2, "Deg C"),
        ("BattV_Min", 3, "Volts"),
        ("RH", 2, "%"),
        ("WindDir", 3, "degrees"),
    ]
    # 3 lines x 4 channels = 12 values in = 10 landed + 2 quarantined.
    assert ledger(plant) == ("landed", 12, 3, 10, 2, None)


# A HOBOware export of a temperature/RH logger: a plot title above the header, quoted names with commas
# (the time column states its clock), yy/mm/dd dates, and event columns that say "Logged".
HOBO = """\
"Plot Title: 10423467"
"#","Date Time, GMT+01:00","Temp, °C (LGR S/N: 10423467, SEN S/N: 10423467)","RH, % (LGR S/N: 10423467, SEN S/N: 10423467)","Coupler Detached (LGR S/N: 10423467)","End Of File (LGR S/N: 10423467)"
1,26/07/02 06:00:00,21.512,45.2,,
2,26/07/02 06:15:00,21.608,45.9,,
3,26/07/02 06:30:00,21.704,46.3,Logged,
4,26/07/02 06:45:00,21.8,46.1,,Logged
"""  # noqa: E501
TEMP = "Temp, °C (LGR S/N: 10423467, SEN S/N: 10423467)"
RH = "RH, % (LGR S/N: 10423467, SEN S/N: 10423467)"
COUPLER = "Coupler Detached (LGR S/N: 10423467)"
EOF = "End Of File (LGR S/N: 10423467)"


def land_hobo(plant_factory):
    plant = logger_plant(plant_factory, {"header_line": 2, "timestamp_format": "%y/%m/%d %H:%M:%S"})
    write(plant, "10423467.csv", HOBO)
    plant.land()
    return plant


def test_a_hoboware_export_needs_only_its_header_line_and_time_format(plant_factory):
    plant = land_hobo(plant_factory)
    rows = points(plant)
    # "#" is HOBOware's record number: the time is the next column and "#" does not land. The quoted names
    # keep their commas: 4 channel columns, each a tag named as the header says.
    assert sorted({tag for tag, *_ in rows}) == sorted([RH, TEMP])
    assert [(tag, value, line) for tag, _, value, line in rows] == [
        (RH, 45.2, 3),
        (RH, 45.9, 4),
        (RH, 46.3, 5),
        (RH, 46.1, 6),
        (TEMP, 21.512, 3),
        (TEMP, 21.608, 4),
        (TEMP, 21.704, 5),
        (TEMP, 21.8, 6),
    ]
    # The event columns hold text, which a sensor channel cannot: quarantined with the reason, each on its
    # physical line (3rd data line = line 5, 4th = line 6).
    assert quarantine(plant) == [
        (5, "Value is not a number: Logged", f"26/07/02 06:30:00,{COUPLER}=Logged"),
        (6, "Value is not a number: Logged", f"26/07/02 06:45:00,{EOF}=Logged"),
    ]
    assert catalog_units(plant) == [(RH, 4, None), (TEMP, 4, None)]
    # 4 lines: Temp 4 + RH 4 + Coupler 1 + End Of File 1 = 10 values in = 8 landed + 2 quarantined.
    assert ledger(plant) == ("landed", 10, 4, 8, 2, None)


def test_a_hoboware_export_lands_at_the_instants_its_header_states(plant_factory):
    plant = land_hobo(plant_factory)
    # 26/07/02 is 2 July 2026 (yy/mm/dd). The header says the clock is GMT+01:00, a fixed offset, so 06:00 is
    # 05:00 UTC, not 04:00 as Berlin's summer time (UTC+2) would make it.
    expected = [utc(2026, 7, 2, 5, 0) + dt.timedelta(minutes=15 * i) for i in range(4)]
    assert [ts for tag, ts, _, _ in points(plant) if tag == TEMP] == expected


# A logger whose export puts two lines of preamble above the header, a units line under it and a comment
# before the data; semicolons and decimal commas.
PREAMBLE = """\
Logger;Compressor room 3
Exported;2026-03-02 14:00 by LogView 4.2
Time;Pressure;Flow;Note
;bar;m3/h;
# calibrated 2026-01-15
2026-03-02 06:00:00;6,10;12,5;
2026-03-02 06:01:00;6,20;;
2026-03-02 06:02:00;6,30;ERR;
"""


def test_header_units_and_data_start_lines_keep_physical_line_numbers(plant_factory):
    options = {
        "delimiter": ";",
        "decimal_comma": True,
        "header_line": 3,
        "units_line": 4,
        "data_start_line": 6,
        "skip_columns": ["Note"],
    }
    plant = logger_plant(plant_factory, options)
    write(plant, "compressor.csv", PREAMBLE)
    plant.land()
    # Berlin winter time: 06:00 local = 05:00 UTC. Lines 1-2 (preamble), 4 (units) and 5 (comment) are not
    # data; the data lines are 6, 7, 8. The empty Flow cell on line 7 is no value (not a row).
    assert points(plant) == [
        ("Flow", utc(2026, 3, 2, 5, 0), 12.5, 6),
        ("Pressure", utc(2026, 3, 2, 5, 0), 6.1, 6),
        ("Pressure", utc(2026, 3, 2, 5, 1), 6.2, 7),
        ("Pressure", utc(2026, 3, 2, 5, 2), 6.3, 8),
    ]
    assert quarantine(plant) == [(8, "Value is not a number: ERR", "2026-03-02 06:02:00,Flow=ERR")]
    assert catalog_units(plant) == [("Flow", 1, "m3/h"), ("Pressure", 3, "bar")]
    # Pressure 3 + Flow 2 (lines 6 and 8) = 5 values in, from 3 data lines, = 4 landed + 1 quarantined.
    assert ledger(plant) == ("landed", 5, 3, 4, 1, None)


def test_a_quoted_time_column_name_with_a_comma_is_one_column(plant_factory):
    plant = logger_plant(plant_factory, {"timestamp_column": "Date Time, GMT+00:00"}, timezone="UTC")
    write(plant, "quoted.csv", '"Date Time, GMT+00:00","Temp, °C"\n2026-03-02 06:00:00,20.5\n')
    plant.land()
    assert points(plant) == [("Temp, °C", utc(2026, 3, 2, 6, 0), 20.5, 2)]
    assert ledger(plant) == ("landed", 1, 1, 1, 0, None)


def test_a_time_column_that_states_its_gmt_offset_is_read_in_that_offset(plant_factory):
    # A HOBOware export from a logger kept on US Eastern standard time, landed by a Berlin plant. ISO dates,
    # so the time format plays no part: 2 July 06:00 at GMT-05:00 is 11:00 UTC (Berlin's summer time would
    # make it 04:00 UTC).
    plant = logger_plant(plant_factory)
    write(plant, "eastern.csv", '"#","Date Time, GMT-05:00","Temp, °F"\n1,2026-07-02 06:00:00,68.5\n')
    plant.land()
    assert points(plant) == [("Temp, °F", utc(2026, 7, 2, 11, 0), 68.5, 2)]
    assert ledger(plant) == ("landed", 1, 1, 1, 0, None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"timestamp_column": "Date Time"},
            'header lacks the timestamp column \'Date Time\'; found "Date Time, GMT+00:00", "Temp, °C"',
        ),
        ({"channels": ["Temp"]}, 'header lacks channel column(s) "Temp"; found "Date Time, GMT+00:00", "Temp, °C"'),
    ],
)
def test_a_missing_column_is_named_with_the_columns_the_header_has(plant_factory, options, message):
    plant = logger_plant(plant_factory, options, timezone="UTC")
    write(plant, "quoted.csv", '"Date Time, GMT+00:00","Temp, °C"\n2026-03-02 06:00:00,20.5\n')
    plant.land()
    status, rows_in, lines_in, landed, quarantined, reason = ledger(plant)
    # The file is rejected as a whole; its one data line goes to quarantine with the reason.
    assert (status, rows_in, lines_in, landed, quarantined) == ("rejected", 1, 1, 0, 1)
    assert reason.endswith(message), reason


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"header_line": 0}, "sources[0].options.header_line: must be a line number (1 = the first line of the file)"),
        ({"header_line": 2, "units_line": 2}, "sources[0].options.units_line: is the header line (2)"),
        ({"units_line": 3, "data_start_line": 3}, "sources[0].options.data_start_line: must come after the header"),
        ({"header_line": 4, "data_start_line": 2}, "sources[0].options.data_start_line: must come after the header"),
    ],
)
def test_layout_options_are_checked_with_their_path(options, message):
    from assets.plant.source_formats import SourceOptionsError, validate_source_options

    with pytest.raises(SourceOptionsError) as error:
        validate_source_options("sensor_csv", options, "sources[0].options")
    assert str(error.value).startswith(message), error.value


# ---- the ledger counts values and lines (issue #13, section 11) ------------------------------------------

WIDE = """\
ts,A,B,C
2026-03-02 06:00:00,1,2,3
2026-03-02 06:01:00,,,
2026-03-02 06:02:00,4,x,
2026-03-02 06:03:00,5,6
not a time,7,8,9
"""


def test_the_ledger_counts_the_values_and_the_lines_of_wide_and_long_files(plant_factory):
    config = one_machine_config(timezone="UTC")
    config["sources"] = [
        {"name": "historian", "format": "aveva_historian_csv", "folder": "historian"},
        {"name": "loggers", "format": "sensor_csv", "folder": "loggers"},
        {"name": "gateway", "format": "sensor_jsonl", "folder": "gateway"},
    ]
    plant = plant_factory(config)
    write(plant, "wide.csv", WIDE)
    plant.export(
        "long.csv",
        [
            aveva_row("2026-03-02 06:00:00", "L1.FILLER.Total", 10),
            aveva_row("2026-03-02 06:01:00", "L1.FILLER.Total", 11),
            aveva_row("2026-13-45 06:02:00", "L1.FILLER.Total", 12),
            "garbage\n",
        ],
    )
    gateway = plant.landing / "gateway"
    gateway.mkdir()
    (gateway / "mqtt.jsonl").write_text(
        '{"device": "press", "ts": "2026-03-02T06:00:00Z", "metrics": {"p": 1.5, "t": 20, "mode": [1]}}\n\n{not json\n'
    )
    plant.land()
    rows = silver(
        plant,
        "bronze__file_ledger",
        "select source_file, rows_in, lines_in, rows_landed, rows_quarantined from t order by source_file",
    )
    assert rows == [
        # jsonl, one message per line: line 1 has 3 metrics (p and t land, a list is not a value: quarantined),
        # line 2 is blank (no line of data), line 3 is not JSON (1 quarantined). 4 values = 2 + 2, 2 lines.
        ("gateway/mqtt.jsonl", 4, 2, 2, 2),
        # long: every data line is one value. Lines 2 and 3 land; line 4's date does not exist and line 5
        # cannot be split: 4 values = 2 landed + 2 quarantined, from 4 lines.
        ("historian/long.csv", 4, 4, 2, 2),
        # wide: line 2 gives 3 values (all land), line 3 none (still a line read), line 4 two (A lands, B is
        # not a number), line 5 cannot be split (one quarantined row), line 6's time is not one (its 3 values
        # are quarantined). 3 + 0 + 2 + 1 + 3 = 9 values = 4 landed + 5 quarantined, from 5 lines.
        ("loggers/wide.csv", 9, 5, 4, 5),
    ]
    per_line = "select source_file, line, count(*) from t group by all order by 1, 2"
    assert silver(plant, "bronze__quarantine", per_line) == [
        ("gateway/mqtt.jsonl", 1, 1),
        ("gateway/mqtt.jsonl", 3, 1),
        ("historian/long.csv", 4, 1),
        ("historian/long.csv", 5, 1),
        ("loggers/wide.csv", 4, 1),
        ("loggers/wide.csv", 5, 1),
        ("loggers/wide.csv", 6, 3),
    ]

"""The commands that answer an engineer's questions, run as the real `iiot-lakehouse` in a subprocess on a
lakehouse landed from a small AVEVA export with a bad row and a tag the plant config does not map:
`land`, `tags`, `quarantine`, `check-config`, `status`, `sql` (plant time, no Dagster) and the marts' `ops`
schema."""

from __future__ import annotations

import re

import yaml

from tests.helpers.cli import CliPlant, last_line
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva
from tests.helpers.plant import one_machine_config

# Monday 2026-03-02, Europe/Berlin (UTC+1 in March). Line 1 is the header; line 4's value is not a number, so it
# is quarantined; L1.MIXER.Temp is in no machine of the plant config.
ROWS = [
    r("2026-03-02 07:00:00", "L1.FILLER.State", 1),  # line 2
    r("2026-03-02 08:00:00", "L1.FILLER.Total", 10),  # line 3
    r("2026-03-02 08:30:00", "L1.FILLER.Total", "abc"),  # line 4: quarantined
    r("2026-03-02 07:30:00", "L1.MIXER.Temp", 21.5),  # line 5: unmapped
]
# the quarantine keeps the row as read: the export's first seven fields (wwRetrievalMode is not read)
RAW_LINE_4 = "2026-03-02 08:30:00.000,L1.FILLER.Total,abc,abc,0,192,192"


def test_land_tags_quarantine_status_sql_and_the_ops_schema_answer_from_a_real_lakehouse(tmp_path):
    plant = CliPlant(tmp_path, one_machine_config())
    write_aveva(plant.landing / "historian" / "a.csv", ROWS)
    # named as a zip archive, but it is text: rejected as a whole
    (plant.landing / "historian" / "bad.zip").write_text("not a zip\n", encoding="utf-8")

    land = plant.cli("land")
    assert land.returncode == 1, land.stderr[-3000:]
    # a.csv: 4 lines, 4 values; 3 points new, 1 quarantined (line 4); bad.zip rejected
    assert land.stdout.splitlines()[:6] == [
        f"landing new files from {plant.landing}",
        "  files landed: 1, rejected: 1, already landed: 0",
        "  lines in: 4, values in: 4, values new: 3, values duplicate: 0, values quarantined: 1",
        f"  1 value(s) quarantined into {plant.lake / 'bronze__quarantine'}; list them: iiot-lakehouse quarantine",
        "    historian/a.csv: 1 quarantined",
        "  production days with new data: 2026-03-02; rebuild them: iiot-lakehouse run",
    ]
    assert last_line(land).startswith("iiot-lakehouse: error: 1 file(s) rejected: historian/bad.zip: ")
    assert not (plant.lake / "marts.duckdb").exists()  # landed only: nothing was built

    quarantine = plant.cli("quarantine")
    assert quarantine.returncode == 0, quarantine.stderr[-3000:]
    assert quarantine.stdout.splitlines() == [
        "historian/a.csv: Value is not a number: abc (1 row(s))",
        f"  line 4: {RAW_LINE_4}",
        "1 quarantined row(s) in 1 file(s)",
    ]
    assert plant.cli("quarantine", "--file", "a.csv", "--reason", "NOT A NUMBER").stdout == quarantine.stdout
    assert plant.cli("quarantine", "--reason", "timestamp").stdout.splitlines() == ["no quarantined rows match"]

    tags = plant.cli("tags")
    assert tags.returncode == 0, tags.stderr[-3000:]
    # each tag has one point; first and last seen are the export's plant-local times
    assert [re.split(r"\s{2,}", line.strip()) for line in tags.stdout.splitlines()[3:]] == [
        ["L1.FILLER.State", "historian", "2026-03-02 07:00:00", "2026-03-02 07:00:00", "1", "0.0%", "L1/FILLER/state"],
        [
            "L1.FILLER.Total",
            "historian",
            "2026-03-02 08:00:00",
            "2026-03-02 08:00:00",
            "1",
            "0.0%",
            "L1/FILLER/total_count",
        ],
        ["L1.MIXER.Temp", "historian", "2026-03-02 07:30:00", "2026-03-02 07:30:00", "1", "0.0%", "-"],
        ["3 tag(s), 1 not mapped"],
    ]
    assert tags.stdout.splitlines()[0] == "times in Europe/Berlin"
    unmapped = plant.cli("tags", "--unmapped").stdout.splitlines()
    assert [line.split()[0] for line in unmapped[3:]] == ["L1.MIXER.Temp", "1"]
    assert plant.cli("tags", "--like", "l1.filler.%", "--source", "historian").stdout.splitlines()[-1] == (
        "2 tag(s), 0 not mapped"
    )
    assert plant.cli("tags", "--source", "sensors").stdout.splitlines() == ["no tags match"]

    check = plant.cli("check-config")
    assert check.returncode == 0, check.stderr[-3000:]
    # the config maps State, Total, Reject and kWh; State and Total have landed, MIXER.Temp is mapped by nothing
    assert check.stdout.splitlines() == [
        f"plant config {plant.config}: valid",
        f"sources (folders under LANDING_ROOT {plant.landing}):",
        f"  historian (aveva_historian_csv): {plant.landing / 'historian'}",
        "mapped tags never seen in bronze: 2",
        "  L1.FILLER.Reject (L1/FILLER/reject_count)",
        "  L1.FILLER.kWh (L1/FILLER/energy_meter)",
        "seen tags that nothing maps: 1",
        "  L1.MIXER.Temp (historian, 1 point(s))",
        "plant config valid: 1 source(s), 1 machine(s), 4 tag(s) mapped",
    ]

    waiting = plant.cli("status")
    assert waiting.returncode == 0, waiting.stderr[-3000:]
    lines = waiting.stdout.splitlines()
    assert re.fullmatch(r"last file landed: historian/a\.csv at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[1])
    assert lines[2:5] == [
        "last day published: none yet",
        "days waiting to be rebuilt: 1; rebuild them: iiot-lakehouse run",
        lines[4],
    ]
    assert lines[4].startswith("  2026-03-02: ")
    assert lines[-1] == "status: ok"

    (plant.landing / "historian" / "bad.zip").unlink()
    built = plant.cli("run")
    assert built.returncode == 0, built.stderr[-3000:]

    status = plant.cli("status")
    assert status.returncode == 0, status.stderr[-3000:]
    lines = status.stdout.splitlines()
    assert lines[2].startswith("last day published: 2026-03-02 (at ")
    assert lines[3:] == [
        "days waiting to be rebuilt: 0",
        "failing checks: 0 (the last 1 published day(s) audited)",
        "stale sources: 0",
        "status: ok",
    ]

    # sql: plant time by default, 07:30 Berlin = 06:30 UTC with --utc; Dagster is never imported
    query = "select tag, first_seen from ops.tag_catalog where not mapped"
    local = plant.cli("sql", "--format", "csv", query, python=("-X", "importtime"))
    assert local.returncode == 0, local.stderr[-3000:]
    assert local.stdout.splitlines() == ["tag,first_seen", "L1.MIXER.Temp,2026-03-02 07:30:00+01:00"]
    imported = [line.split("|")[-1].strip() for line in local.stderr.splitlines() if line.startswith("import time:")]
    assert "orchestration.analyst_sql" in imported  # the import trace is there...
    assert not [m for m in imported if m.split(".")[0] == "dagster"]  # ...and holds no Dagster module
    assert plant.cli("sql", "--utc", "--format", "csv", query).stdout.splitlines()[1] == (
        "L1.MIXER.Temp,2026-03-02 06:30:00+00:00"
    )

    ops = plant.cli(
        "sql",
        "--format",
        "csv",
        "select source_file, reason, rows_quarantined, first_line, first_raw from ops.quarantine_summary; ",
    )
    assert ops.stdout.splitlines() == [
        "source_file,reason,rows_quarantined,first_line,first_raw",
        f'historian/a.csv,Value is not a number: abc,1,4,"{RAW_LINE_4}"',
    ]
    ledger = plant.cli(
        "sql",
        "--format",
        "csv",
        "select source_file, status, rows_in, rows_landed, rows_quarantined from ops.file_ledger order by 1",
    )
    # a.csv: 4 values = 3 landed + 1 quarantined; bad.zip rejected, nothing read
    assert ledger.stdout.splitlines() == [
        "source_file,status,rows_in,rows_landed,rows_quarantined",
        "historian/a.csv,landed,4,3,1",
        "historian/bad.zip,rejected,0,0,0",
    ]


def test_check_config_lists_missing_folders_and_an_invalid_config_exits_1(tmp_path):
    config = one_machine_config()
    config["sources"].append({"name": "sensors", "format": "sensor_csv", "folder": "sensors"})
    plant = CliPlant(tmp_path, config)
    (plant.landing / "historian").mkdir(parents=True)

    check = plant.cli("check-config")
    assert check.returncode == 0, check.stderr[-3000:]
    # nothing has landed: every mapped tag is unseen
    assert check.stdout.splitlines() == [
        f"plant config {plant.config}: valid",
        f"sources (folders under LANDING_ROOT {plant.landing}):",
        f"  historian (aveva_historian_csv): {plant.landing / 'historian'}",
        f"  sensors (sensor_csv): {plant.landing / 'sensors'} (missing)",
        "mapped tags never seen in bronze: 4",
        "  L1.FILLER.Reject (L1/FILLER/reject_count)",
        "  L1.FILLER.State (L1/FILLER/state)",
        "  L1.FILLER.Total (L1/FILLER/total_count)",
        "  L1.FILLER.kWh (L1/FILLER/energy_meter)",
        "seen tags that nothing maps: 0",
        "plant config valid: 2 source(s), 1 machine(s), 4 tag(s) mapped",
    ]

    config["plant"]["timezone"] = "Mars/Olympus_Mons"
    plant.config.write_text(yaml.safe_dump(config), encoding="utf-8")
    invalid = plant.cli("check-config")
    assert invalid.returncode == 1
    assert last_line(invalid).startswith("iiot-lakehouse: error in the plant config: ")
    assert "Mars/Olympus_Mons" in last_line(invalid)
    assert "Traceback" not in invalid.stderr


def test_status_names_a_late_and_a_stale_source_by_the_freshness_checks_rule(tmp_path):
    # historian: expected every 1 day, its file lands now -> fresh. loggers: expected every 1 hour, no file
    # ever -> stale (the freshness check fails), exit 1. The rule is the freshness checks' own.
    config = one_machine_config()
    config["sources"][0]["expected_every"] = "1d"
    config["sources"].append({"name": "loggers", "format": "sensor_csv", "folder": "loggers", "expected_every": "1h"})
    plant = CliPlant(tmp_path, config)
    write_aveva(plant.landing / "historian" / "a.csv", ROWS[:2])
    (plant.landing / "loggers").mkdir(parents=True)
    assert plant.cli("land").returncode == 0

    status = plant.cli("status")
    assert status.returncode == 1, status.stderr[-3000:]
    lines = status.stdout.splitlines()
    at = lines.index("stale sources: 1")
    assert lines[at + 1] == "  stale: no file of source 'loggers' has landed (expected every 60 min)"
    assert last_line(status) == "iiot-lakehouse: error: 1 source(s) stale"


def test_each_command_help_shows_examples_and_the_environment_it_reads(tmp_path):
    plant = CliPlant(tmp_path, one_machine_config())
    for command in ("land", "check-config", "tags", "quarantine", "status", "sql", "run", "doctor"):
        shown = plant.cli(command, "--help")
        assert shown.returncode == 0, shown.stderr
        assert f"\nexamples:\n  iiot-lakehouse {command}" in shown.stdout, command
        assert "\nenvironment:\n  LAKEHOUSE_ROOT  " in shown.stdout, command

"""A corpus of bad export files, each with the outcome landing must give it.

`build_corpus(landing)` writes every case into its source's folder under `landing` and returns the
cases; `PLANT` is a plant config with one source per format variant, each in its own folder. A case
states what the file ledger must say (status, rows in, landed, quarantined, where the figure is
fixed by the file) and a phrase that the reason of a rejected file or of its quarantined rows must
contain, so that a plant engineer reading the quarantine knows what to fix.
"""

from __future__ import annotations

import copy
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.exports import HEADER
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config

SOURCES = [
    {"name": "historian", "format": "aveva_historian_csv", "folder": "historian"},
    {
        "name": "historian_utf16",
        "format": "aveva_historian_csv",
        "folder": "historian_utf16",
        "options": {"encoding": "utf-16"},
    },
    {
        "name": "historian_latin1",
        "format": "aveva_historian_csv",
        "folder": "historian_latin1",
        "options": {"encoding": "latin-1"},
    },
    {
        "name": "logger_de",
        "format": "sensor_csv",
        "folder": "logger_de",
        "options": {"delimiter": ";", "decimal_comma": True, "tag_prefix": "DE."},
    },
    {"name": "logger", "format": "sensor_csv", "folder": "logger", "options": {"tag_prefix": "LOG."}},
    {"name": "gateway", "format": "sensor_jsonl", "folder": "gateway"},
]


def plant_config() -> dict:
    """The one-machine plant with every source of the corpus."""
    config = one_machine_config()
    config["sources"] = copy.deepcopy(SOURCES)
    return config


@dataclass
class Case:
    """One corpus file and the outcome its ledger row and quarantine rows must show."""

    name: str  # what the case is about, as printed in the summary
    path: str  # relative to LANDING_ROOT: the source folder and the file name
    content: bytes
    status: str = "landed"  # the ledger status
    rows_in: int | None = None
    landed: int | None = None
    quarantined: int | None = None
    reason: str | None = None  # in the file's message or in every one of its quarantine reasons
    points: list[tuple[str, str, float | str | None]] | None = None  # (tag, UTC 'YYYY-MM-DD HH:MM:SS', value)
    min_landed: int | None = None  # where the exact figure depends on where the file breaks
    xfail: str | None = None  # a known landing bug this case shows, with its cause


def _utc(local_berlin_march: str) -> str:
    """The demo plant is in Europe/Berlin; early March is UTC+1."""
    hour = int(local_berlin_march[11:13]) - 1
    return f"{local_berlin_march[:11]}{hour:02d}{local_berlin_march[13:]}"


def csv_bytes(rows: list[str], header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return (header + "".join(rows)).encode(encoding)


def row(minute: int, tag: str = "BAD.Tag", value: object = 1.0, hour: int = 6) -> str:
    return r(f"2026-03-02 {hour:02d}:{minute:02d}:00", tag, value)


CANARY_ROWS = [(f"2026-03-02 06:0{i}:00", f"CANARY.T{i % 2}", 100.0 + i) for i in range(6)]
CANARY = Case(
    "canary",
    "historian/000_canary.csv",
    csv_bytes([r(ts, tag, value) for ts, tag, value in CANARY_ROWS]),
    rows_in=6,
    landed=6,
    quarantined=0,
    points=[(tag, _utc(ts), value) for ts, tag, value in CANARY_ROWS],
)


def _many_rows(n: int, tag: str) -> list[str]:
    return [
        r(f"2026-03-{2 + i // 86400:02d} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}", tag, i)
        for i in range(n)
    ]


def _cases() -> list[Case]:
    good = [row(0, "ENC.Tag", 1.5), row(1, "ENC.Tag", 2.5)]
    de_header = "Zeit;Temp;Druck\n"
    many = _many_rows(20_500, "BIG.Tag")
    bad_at = 20_123  # a data row after the first 20,000
    many[bad_at] = many[bad_at].replace(",20123,20123,", ",zwanzig,zwanzig,")
    gz_full = gzip.compress(csv_bytes(_many_rows(30_000, "GZ.Tag")))
    ten_mb = "x" * (10 << 20)
    return [
        # --- encodings
        Case(
            "UTF-8 with BOM",
            "historian/bom.csv",
            b"\xef\xbb\xbf" + csv_bytes(good),
            rows_in=2,
            landed=2,
            points=[("ENC.Tag", "2026-03-02 05:00:00", 1.5), ("ENC.Tag", "2026-03-02 05:01:00", 2.5)],
        ),
        Case(
            "UTF-16 (configured)",
            "historian_utf16/utf16.csv",
            csv_bytes([row(0, "U16.Tag", 3.0)], encoding="utf-16"),
            rows_in=1,
            landed=1,
            points=[("U16.Tag", "2026-03-02 05:00:00", 3.0)],
        ),
        Case(
            "UTF-16 where UTF-8 is expected",
            "historian/utf16_unexpected.csv",
            csv_bytes([row(0, "U16.Tag", 3.0)], encoding="utf-16"),
            status="rejected",
            landed=0,
            reason="header",
        ),
        Case(
            "Latin-1 (configured)",
            "historian_latin1/latin1.csv",
            csv_bytes([row(0, "Kühlung.Temp°C", 4.0)], encoding="latin-1"),
            rows_in=1,
            landed=1,
            points=[("Kühlung.Temp°C", "2026-03-02 05:00:00", 4.0)],
        ),
        Case(
            "Latin-1 where UTF-8 is expected",
            "historian/latin1_unexpected.csv",
            csv_bytes([row(0, "OK.Tag", 1.0), row(1, "Kühlung.Temp", 4.0)], encoding="latin-1"),
            status="rejected",
            rows_in=2,
            landed=0,
            quarantined=2,
            reason="UTF8",
        ),
        Case(
            "semicolon and decimal comma",
            "logger_de/decimal_comma.csv",
            (de_header + "2026-03-02 06:00:00;21,5;1.013,25\n2026-03-02 06:01:00;-3,75;1.012,5\n").encode(),
            rows_in=4,
            landed=4,
            quarantined=0,
            points=[
                ("DE.Druck", "2026-03-02 05:00:00", 1013.25),
                ("DE.Druck", "2026-03-02 05:01:00", 1012.5),
                ("DE.Temp", "2026-03-02 05:00:00", 21.5),
                ("DE.Temp", "2026-03-02 05:01:00", -3.75),
            ],
        ),
        Case(
            "semicolon file with a BOM and CRLF",
            "logger_de/bom_crlf.csv",
            ("\ufeff" + de_header + "2026-03-02 07:00:00;1,5;2,5\r\n")
            .replace("\n", "\r\n")
            .replace("\r\r", "\r")
            .encode(),
            rows_in=2,
            landed=2,
            points=[("DE.Druck", "2026-03-02 06:00:00", 2.5), ("DE.Temp", "2026-03-02 06:00:00", 1.5)],
        ),
        Case(
            "comma-delimited file in a semicolon source",
            "logger_de/wrong_delimiter.csv",
            b"Zeit,Temp,Druck\n2026-03-02 08:00:00,21.5,1013\n",
            status="rejected",
            landed=0,
            reason="channel",
        ),
        Case(
            "NaN, Inf and text in a decimal-comma logger",
            "logger_de/not_finite.csv",
            (
                de_header + "2026-03-02 09:00:00;NaN;inf\n2026-03-02 09:01:00;1e309;abc\n2026-03-02 09:02:00;7,0;8,0\n"
            ).encode(),
            rows_in=6,
            landed=2,
            quarantined=4,
            reason="not",
        ),
        # --- structure
        Case(
            "ragged rows",
            "historian/ragged.csv",
            csv_bytes(
                [
                    row(0, "RAG.Tag", 1),
                    "2026-03-02 06:01:00.000,RAG.Tag\n",
                    row(2, "RAG.Tag", 3).rstrip("\n") + ",extra,fields\n",
                    row(3, "RAG.Tag", 4),
                ]
            ),
            rows_in=4,
            landed=2,
            quarantined=2,
            reason="fields",
        ),
        Case(
            "ragged rows in a logger",
            "logger/ragged.csv",
            b"ts,Temp,Flow\n2026-03-02 06:00:00,1,2\n2026-03-02 06:01:00,3\n2026-03-02 06:02:00,5,6,7\n"
            b"2026-03-02 06:03:00,8,9\n",
            landed=4,
            reason="fields",
        ),
        Case(
            "quoted newlines",
            "historian/quoted_newline.csv",
            csv_bytes(
                [
                    row(0, "TXT.Tag", 1),
                    '2026-03-02 06:01:00.000,TXT.Msg,,"line one\nline two",0,192,192,Delta\n',
                    row(2, "TXT.Tag", 3),
                ]
            ),
            rows_in=3,
            landed=3,
            quarantined=0,
            points=[
                ("TXT.Msg", "2026-03-02 05:01:00", "line one\nline two"),
                ("TXT.Tag", "2026-03-02 05:00:00", 1.0),
                ("TXT.Tag", "2026-03-02 05:02:00", 3.0),
            ],
        ),
        Case(
            "a bad row after the first 20,000",
            "historian/bad_after_20000.csv",
            csv_bytes(many),
            rows_in=20_500,
            landed=20_499,
            quarantined=1,
            reason="not a number",
        ),
        Case(
            "NaN, Inf, 1e309",
            "historian/not_finite.csv",
            csv_bytes(
                [
                    row(0, "NF.Tag", "NaN"),
                    row(1, "NF.Tag", "inf"),
                    row(2, "NF.Tag", "-Infinity"),
                    row(3, "NF.Tag", "1e309"),
                    row(4, "NF.Tag", "-1e309"),
                    row(5, "NF.Tag", 1e308),
                ]
            ),
            rows_in=6,
            landed=1,
            quarantined=5,
            reason="not finite",
        ),
        Case(
            "zero bytes",
            "historian/empty.csv",
            b"",
            status="rejected",
            rows_in=0,
            landed=0,
            quarantined=0,
            reason="empty",
        ),
        Case("header only", "historian/header_only.csv", HEADER.encode(), rows_in=0, landed=0, quarantined=0),
        Case("only blank lines", "historian/blank.csv", b"\n\n\n", status="rejected", landed=0, reason="header"),
        Case(
            "truncated mid-line",
            "historian/truncated.csv",
            csv_bytes([row(0, "TR.Tag", 1), row(1, "TR.Tag", 2), "2026-03-02 06:02:00.000,TR.Ta"]),
            rows_in=3,
            landed=2,
            quarantined=1,
            reason="fields",
        ),
        Case(
            "truncated gzip",
            "historian/truncated.csv.gz",
            gz_full[: len(gz_full) // 2],
            min_landed=10_000,
            reason="truncated",
        ),
        Case(
            "not gzip at all",
            "historian/plain.csv.gz",
            csv_bytes([row(0, "PG.Tag", 1)]),
            status="rejected",
            landed=0,
            reason="gzip",
        ),
        Case(
            "CRLF mixed with LF",
            "historian/crlf_mixed.csv",
            csv_bytes(
                [
                    row(0, "CR.Tag", 1).replace("\n", "\r\n"),
                    row(1, "CR.Tag", 2),
                    row(2, "CR.Tag", 3).replace("\n", "\r\n"),
                    row(3, "CR.Tag", 4),
                ]
            ).replace(b"Delta\n", b"Delta\n", 1),
            rows_in=4,
            landed=4,
            quarantined=0,
            points=[("CR.Tag", f"2026-03-02 05:0{i}:00", float(i + 1)) for i in range(4)],
        ),
        Case(
            "header repeated mid-file (two exports concatenated)",
            "historian/header_twice.csv",
            csv_bytes([row(0, "HT.Tag", 1), HEADER, row(1, "HT.Tag", 2)]),
            rows_in=3,
            landed=2,
            quarantined=1,
            reason="timestamp is not ISO-8601",
        ),
        Case(
            "a column named twice",
            "historian/column_twice.csv",
            csv_bytes([row(0, "CT.Tag", 1)], header=HEADER.replace("vValue", "Value")),
            status="rejected",
            landed=0,
            reason="column twice",
        ),
        Case(
            "a required column missing",
            "historian/no_value_column.csv",
            csv_bytes(
                ["2026-03-02 06:00:00.000,MC.Tag,0,192,192,Delta\n"],
                header="DateTime,TagName,Quality,QualityDetail,OPCQuality,wwRetrievalMode\n",
            ),
            status="rejected",
            landed=0,
            reason="header lacks column(s) Value",
        ),
        Case(
            "timestamps in three formats",
            "historian/three_formats.csv",
            csv_bytes(
                [
                    "2026-03-02 06:00:00.000,TF.Tag,1,1,0,192,192,Delta\n",
                    "2026-03-02T06:01:00,TF.Tag,2,2,0,192,192,Delta\n",
                    "2026-03-02T05:02:00Z,TF.Tag,3,3,0,192,192,Delta\n",
                    "02.03.2026 06:03:00,TF.Tag,4,4,0,192,192,Delta\n",
                    "3/2/2026 6:04:00 AM,TF.Tag,5,5,0,192,192,Delta\n",
                ]
            ),
            rows_in=5,
            landed=3,
            quarantined=2,
            reason="timestamp is not ISO-8601",
            points=[
                ("TF.Tag", "2026-03-02 05:00:00", 1.0),
                ("TF.Tag", "2026-03-02 05:01:00", 2.0),
                ("TF.Tag", "2026-03-02 05:02:00", 3.0),
            ],
        ),
        Case(
            "years 1 and 9999 (a logger's clock unset or a filler date)",
            "historian/years_1_and_9999.csv",
            csv_bytes(
                [
                    "2026-03-02 06:00:00.000,YR.Tag,1,1,0,192,192,Delta\n",
                    "0001-01-01 00:00:00.000,YR.Tag,2,2,0,192,192,Delta\n",
                    "9999-12-31 23:59:59.000,YR.Tag,3,3,0,192,192,Delta\n",
                ]
            ),
            rows_in=3,
            landed=1,
            quarantined=2,
            reason="timestamp out of range",
            points=[("YR.Tag", "2026-03-02 05:00:00", 1.0)],
        ),
        Case(
            "years 1 and 9999 in a logger's wide file",
            "logger/years_1_and_9999.csv",
            b"ts,T\n2026-03-02 06:00:00,1\n0001-01-01 00:00:00,2\n9999-12-31 23:59:59,3\n",
            rows_in=3,
            landed=1,
            quarantined=2,
            reason="timestamp out of range",
            points=[("LOG.T", "2026-03-02 05:00:00", 1.0)],
        ),
        Case(
            "non-monotonic time",
            "historian/non_monotonic.csv",
            csv_bytes(
                [
                    row(5, "NM.Tag", 5),
                    row(1, "NM.Tag", 1),
                    row(3, "NM.Tag", 3),
                    row(2, "NM.Tag", 2),
                    row(4, "NM.Tag", 4),
                ]
            ),
            rows_in=5,
            landed=5,
            quarantined=0,
            points=[("NM.Tag", f"2026-03-02 05:0{i}:00", float(i)) for i in range(1, 6)],
        ),
        Case(
            "the same tag and time twice with different values",
            "historian/conflict.csv",
            csv_bytes([row(0, "CF.Tag", 1), row(0, "CF.Tag", 2), row(0, "CF.Tag", 1)]),
            rows_in=3,
            landed=2,
            quarantined=1,
            reason="conflicts with line 2",
        ),
        Case(
            "a 10 MB single line",
            "historian/ten_mb_line.csv",
            csv_bytes([row(0, "LL.Tag", 1), ten_mb + "\n", row(1, "LL.Tag", 2)]),
            rows_in=3,
            landed=2,
            quarantined=1,
            reason="fields",
        ),
        Case(
            "a 10 MB line without a newline",
            "historian/ten_mb_no_newline.csv",
            (ten_mb + "," + ten_mb).encode(),
            status="rejected",
            landed=0,
            reason="header lacks",
        ),
        Case(
            "a 10 MB JSON line",
            "gateway/ten_mb.jsonl",
            (
                json.dumps({"ts": "2026-03-02T05:00:00Z", "device": "GW", "metrics": {"a": 1.0}})
                + "\n"
                + json.dumps({"ts": "2026-03-02T05:01:00Z", "device": "GW", "metrics": {"blob": ten_mb}})
                + "\n"
                + json.dumps({"ts": "2026-03-02T05:02:00Z", "device": "GW", "metrics": {"a": 2.0}})
                + "\n"
            ).encode(),
            rows_in=3,
            landed=2,
            quarantined=1,
            reason="line",
        ),
        Case(
            "broken JSON lines",
            "gateway/broken.jsonl",
            b'{"ts": "2026-03-02T05:00:00Z", "device": "GW2", "metrics": {"a": 1}}\n{"ts": "2026-03-02T05:01\n'
            b'[1, 2]\n{"ts": "2026-03-02T05:02:00Z", "device": "GW2", "metrics": {"a": NaN}}\n',
            landed=1,
            reason="",
        ),
        Case("binary garbage", "historian/garbage.csv", bytes(range(256)) * 64, status="rejected", landed=0),
        # --- hostile tag names: data, never SQL or paths
        Case(
            "hostile tag names",
            "historian/hostile_tags.csv",
            csv_bytes(
                [
                    row(0, "'; DROP TABLE bronze_historian__points;--", 1),
                    row(1, "../../etc/passwd", 2),
                    row(2, '"x""; drop table y; --"', 3),
                    row(3, "NUL\x00Tag", 4),
                    row(4, "L" * 10_000, 5),
                    row(5, "Robert'); DELETE FROM bronze__file_ledger;--", 6),
                ]
            ),
            rows_in=6,
            landed=4,
            quarantined=2,
            reason="TagName",
            points=[
                ("'; DROP TABLE bronze_historian__points;--", "2026-03-02 05:00:00", 1.0),
                ("../../etc/passwd", "2026-03-02 05:01:00", 2.0),
                ('x"; drop table y; --', "2026-03-02 05:02:00", 3.0),
                ("Robert'); DELETE FROM bronze__file_ledger;--", "2026-03-02 05:05:00", 6.0),
            ],
        ),
        Case(
            "hostile file name",
            "historian/x'; DROP TABLE y;--.csv",
            csv_bytes([row(0, "HF.Tag", 1)]),
            rows_in=1,
            landed=1,
            points=[("HF.Tag", "2026-03-02 05:00:00", 1.0)],
        ),
        Case(
            "unknown quality codes",
            "historian/quality.csv",
            csv_bytes(
                [
                    "2026-03-02 06:00:00.000,QC.Tag,1,1,7,0,3,Delta\n",
                    "2026-03-02 06:01:00.000,QC.Tag,1,1,,,,Delta\n",
                    row(2, "QC.Tag", 1),
                ]
            ),
            rows_in=3,
            landed=1,
            quarantined=2,
            reason="Quality",
        ),
    ]


def build_corpus(landing: Path) -> list[Case]:
    """Write the canary and every case under `landing`; the canary first."""
    cases = [CANARY, *_cases()]
    for case in cases:
        path = landing / case.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.content)
    return cases


def case_paths() -> list:
    """Every case's path as a pytest parameter (a known bug as a strict xfail), without writing anything."""
    import pytest

    return [
        pytest.param(
            case.path, id=case.path, marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        )
        for case in [CANARY, *_cases()]
    ]

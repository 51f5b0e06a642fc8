"""The OEE ratios are written once, as the macros of sql/staging/oee_ratios.sql, and nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from assets.marts.inputs import register_oee_ratios

REPO = Path(__file__).resolve().parents[2]
MACRO_FILE = REPO / "sql" / "staging" / "oee_ratios.sql"
# Scanned: the product's SQL and Python. Not scanned: the tests (their oracles derive expected numbers
# independently, by design), and bench/, whose analyst queries stand in for what an analyst types into
# their own DuckDB on the published file, which holds no macros.
SCANNED = ("sql", "assets", "orchestration")

RATIO = r"(?:availability|performance|quality|oee)"
NUMERATOR = r"(?:run_time_s|ideal_time_s|fully_productive_time_s|good_count|total_count|ideal_cycle_time_s)"
DENOMINATOR = r"(?:planned_production_time_s|run_time_s|ideal_time_s|total_count)"
OPERANDS = r"[\w.\[\]\"'()]+(?:\s*[-+*]\s*[\w.\[\]\"'()]+)*"
FORMULAS = [
    # a quotient of the times (or counts) the ratios are made of, summed or not, guarded by nullif or not:
    # run / planned, ideal / run, fully productive / ideal, good / total, fully productive / planned, ...
    re.compile(
        rf"\b(?:\w+\.)?{NUMERATOR}\s*\)*\s*/\s*(?:nullif\s*\(\s*)?(?:sum\s*\(\s*)?(?:\w+\.)?{DENOMINATOR}\b",
        re.IGNORECASE,
    ),
    # any quotient named as one of the ratios: `... / nullif(x, 0) as oee`, `x / y as quality`
    re.compile(rf"/\s*nullif\s*\([^()]*\)\s*\)*\s+as\s+{RATIO}\b", re.IGNORECASE),
    re.compile(rf"/[^,()\n]*\bas\s+{RATIO}\b", re.IGNORECASE),
    # Python: `oee = a / b`, `"availability": a.x * b / c` (operands are code: prose such as "availability =
    # run time / planned production time" in a docstring explains, it does not compute)
    re.compile(rf"\b{RATIO}\s*=\s*{OPERANDS}\s*/", re.IGNORECASE),
    re.compile(rf"[\"']{RATIO}[\"']\s*:\s*{OPERANDS}\s*/", re.IGNORECASE),
]


def _code(path: Path) -> str:
    """The file without its comments (which may well explain a formula)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".sql":
        return re.sub(r"--[^\n]*", "", text)
    return re.sub(r"#[^\n]*", "", text)


def ratio_formulas(text: str) -> list[str]:
    """The ratio formulas written in the code `text`."""
    return [m.group(0) for pattern in FORMULAS for m in pattern.finditer(text)]


@pytest.mark.parametrize(
    "written",
    [
        # the formulas as they stood in the staging views and the CLI summary before the macros
        "run_time_s / nullif(planned_production_time_s, 0) as availability,",
        "ideal_cycle_time_s * total_count / nullif(run_time_s, 0) as performance,",
        "good_count / nullif(total_count, 0) as quality",
        "good_count * ideal_cycle_time_s / nullif(planned_production_time_s, 0) as oee,",
        "ideal_time_s / nullif(run_time_s, 0) as performance,",
        "fully_productive_time_s / nullif(ideal_time_s, 0) as quality,",
        "sum(run_time_s) / nullif(sum(planned_production_time_s), 0) as availability,",
        "sum(fully_productive_time_s) / nullif(sum(planned_production_time_s), 0) as oee,",
        # and as they might come back: unguarded, aliased, in Python
        "w.run_time_s / w.planned_production_time_s",
        "select a / b as oee from t",
        "oee = row.fully_productive / row.planned",
        '{"quality": good / total}',
    ],
)
def test_a_ratio_formula_is_recognised(written):
    assert ratio_formulas(written), written


@pytest.mark.parametrize(
    "written",
    [
        "availability(run_time_s, planned_production_time_s) as availability,",
        "oee(sum(fully_productive_time_s), sum(planned_production_time_s)) as oee,",
        "o.run_time_s / nullif(f.failures, 0) as mtbf_s,",
        "planned_production_time_s / nullif(calendar_time_s, 0) as utilization",
        "good_count * ideal_cycle_time_s / nullif(calendar_time_s, 0) as teep,",
        "l.kwh_total / nullif(l.good_count, 0) as kwh_per_good_unit,",
        "planned_production_time_s - run_time_s as availability_loss_s,",
    ],
)
def test_what_is_no_ratio_formula_passes(written):
    assert ratio_formulas(written) == []


def test_the_ratio_formulas_are_written_only_in_the_macro_file():
    files = sorted(p for folder in SCANNED for p in (REPO / folder).rglob("*") if p.suffix in {".sql", ".py"})
    assert MACRO_FILE in files and len(files) > 50  # the scan sees the product's files
    found = {
        str(path.relative_to(REPO)): hits
        for path in files
        if path != MACRO_FILE and (hits := ratio_formulas(_code(path)))
    }
    assert found == {}, "OEE ratios written outside sql/staging/oee_ratios.sql (call its macros instead)"
    # the macro file holds each of the four, and the mean ideal cycle time (ideal time / total count)
    assert set(re.findall(r"create or replace temp macro (\w+)\(", MACRO_FILE.read_text(encoding="utf-8"))) == {
        "availability",
        "performance",
        "quality",
        "oee",
        "mean_ideal_cycle",
    }


def test_the_macros_divide_times_and_give_null_on_a_zero_denominator(tmp_path):
    # 8 h planned (28,800 s), 7 h run (25,200 s): availability 25,200 / 28,800 = 0.875; ideal time 22,680 s:
    # performance 22,680 / 25,200 = 0.9; fully productive 20,412 s: quality 20,412 / 22,680 = 0.9, oee
    # 20,412 / 28,800 = 0.70875 = 0.875 x 0.9 x 0.9. A zero denominator gives NULL, not an error or 0.
    # Registered on a read-only connection (the CLI summary's) and as temporary macros, not stored in the file.
    path = tmp_path / "m.duckdb"
    duckdb.connect(str(path)).close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        register_oee_ratios(con)
        row = con.execute(
            "select availability(25200.0, 28800.0), performance(22680.0, 25200.0), quality(20412.0, 22680.0), "
            "oee(20412.0, 28800.0), availability(1.0, 0), performance(1.0, 0), quality(1.0, 0), oee(1.0, 0)"
        ).fetchone()
        stored = con.execute("select count(*) from duckdb_functions() where database_name = 'm'").fetchone()
    finally:
        con.close()
    assert row[:4] == pytest.approx((0.875, 0.9, 0.9, 0.70875), rel=1e-12)
    assert row[4:] == (None, None, None, None)
    assert stored == (0,)

"""Landing never reads outside LANDING_ROOT (issue #14, section 5).

A file swapped for a link to an outside file, again and again while landing runs, never lands a row of
the outside file, in bronze or in quarantine: the file is opened once, without following a link, and
the descriptor opened is the one checked and read. A hard link to an outside file is refused too.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from assets.bronze.landing import Lakehouse, land_new_files
from assets.plant.config import parse_plant_config
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE
from tests.helpers.exports import HEADER
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import table_rows

PASSES = 25


def _outside(tmp_path: Path) -> Path:
    """A secret file outside LANDING_ROOT: 40 rows of SECRET.Tag, and one line that is not a row (it
    would go to quarantine as raw text if the file were ever read)."""
    rows = [r(f"2026-03-02 {6 + i // 4:02d}:{(i % 4) * 15:02d}:00", "SECRET.Tag", 1000 + i) for i in range(40)]
    path = tmp_path / "outside" / "secret.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "".join(rows) + "SECRET line that is no row\n")
    return path


def _leaks(lakehouse: Lakehouse) -> tuple[list, list]:
    bronze = table_rows(lakehouse, BRONZE_POINTS.name, "select tag, value from t where tag like '%SECRET%'")
    quarantine = table_rows(lakehouse, QUARANTINE.name, "select line, raw from t where raw like '%SECRET%'")
    return bronze, quarantine


def test_a_file_swapped_for_a_link_in_a_loop_never_lands_the_outside_file(tmp_path):
    config = parse_plant_config(one_machine_config())
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    folder = landing / "historian"
    folder.mkdir(parents=True)
    secret = _outside(tmp_path)
    target = folder / "export.csv"
    stop = threading.Event()
    swaps = [0]

    def swapper() -> None:
        # Atomic renames: the name always exists, as a regular file (its own rows, a new inode each
        # time) or as a link to the secret file.
        n = 0
        while not stop.is_set():
            n += 1
            staging = folder / f".swap{n % 2}"
            if staging.exists() or staging.is_symlink():
                staging.unlink()
            if n % 2:
                staging.symlink_to(secret)
            else:
                staging.write_text(HEADER + r("2026-03-02 06:00:00", "L1.FILLER.Total", n))
            os.replace(staging, target)
            swaps[0] = n

    target.write_text(HEADER + r("2026-03-02 06:00:00", "L1.FILLER.Total", 0))
    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    statuses: list[str] = []
    try:
        for _ in range(PASSES):
            result = land_new_files(lakehouse, config, landing)
            statuses += [f.status for f in result.files]
            assert _leaks(lakehouse) == ([], []), f"after {len(statuses)} files"
    finally:
        stop.set()
        thread.join()
    assert swaps[0] > PASSES  # the file was swapped during the passes, not once before them
    assert _leaks(lakehouse) == ([], [])
    # whatever a pass found under the name, only the inside file's rows were ever recorded
    assert {tag for (tag,) in table_rows(lakehouse, BRONZE_POINTS.name, "select distinct tag from t")} <= {
        "L1.FILLER.Total"
    }
    assert set(statuses) <= {"landed", "skipped", "deferred", "refused", "duplicate"}


def test_a_link_put_in_place_of_a_file_is_refused_with_a_note(tmp_path):
    config = parse_plant_config(one_machine_config())
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    (landing / "historian").mkdir(parents=True)
    secret = _outside(tmp_path)
    inside = landing / "historian" / "a.csv"
    inside.write_text(HEADER + r("2026-03-02 06:00:00", "L1.FILLER.Total", 1))
    (landing / "historian" / "inner_link.csv").symlink_to(inside)  # a link to a file inside the root
    result = land_new_files(lakehouse, config, landing)
    assert {f.source_file: f.status for f in result.files} == {"historian/a.csv": "landed"}
    assert "historian/inner_link.csv: a link; landing reads no links (the file it points to lands where it lies)" in (
        result.notes
    )
    assert _leaks(lakehouse) == ([], [])
    assert secret.exists()


def test_a_hard_link_to_an_outside_file_is_refused(tmp_path):
    config = parse_plant_config(one_machine_config())
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    (landing / "historian").mkdir(parents=True)
    secret = _outside(tmp_path)
    os.link(secret, landing / "historian" / "hard.csv")
    (landing / "historian" / "good.csv").write_text(HEADER + r("2026-03-02 06:00:00", "L1.FILLER.Total", 1))
    result = land_new_files(lakehouse, config, landing)
    assert {f.source_file: f.status for f in result.files} == {
        "historian/good.csv": "landed",
        "historian/hard.csv": "refused",
    }
    assert (
        "historian/hard.csv: has 2 hard links: one may be a file outside LANDING_ROOT; not read "
        "(copy the file in instead of linking it)"
    ) in result.notes
    assert _leaks(lakehouse) == ([], [])
    assert table_rows(lakehouse, FILE_LEDGER.name, "select source_file from t") == [("historian/good.csv",)]

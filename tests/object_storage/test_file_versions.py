"""An object rewritten within the same second at the same size is landed again, not skipped unread.

S3 dates objects to the whole second, so key, size and LastModified can match the ledger while the
content has changed; the ETag tells them apart.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assets.bronze.landing import FileReport, KnownFiles, Lakehouse
from assets.bronze.remote_landing import land_remote_files
from assets.plant.config import parse_plant_config
from assets.storage import object_store
from tests.helpers.exports import HEADER, aveva_row
from tests.helpers.plant import one_machine_config

pytestmark = pytest.mark.s3

KEY = "historian/a.csv"


def _export(tmp_path, value: int):
    path = tmp_path / f"v{value}.csv"
    path.write_text(HEADER + aveva_row("2026-03-02 06:00:00", "L1.FILLER.Total", value), encoding="utf-8")
    return path


def test_an_object_rewritten_in_the_same_second_is_landed_again(s3_server, tmp_path):
    options = s3_server.options()
    prefix = s3_server.prefix()
    landing = f"{prefix}/landing"
    first, second = _export(tmp_path, 100), _export(tmp_path, 200)  # same size, other value
    # two writes of one key within one second: same key, size and LastModified, other content
    for _attempt in range(20):
        object_store.upload(first, f"{landing}/{KEY}", options)
        (listed,) = object_store.list_landing(landing, options)
        first_version = object_store.object_version(f"{landing}/{KEY}", options)
        object_store.upload(second, f"{landing}/{KEY}", options)
        (relisted,) = object_store.list_landing(landing, options)
        if relisted.modified == listed.modified:
            break
    else:
        pytest.fail("could not write an object twice within one second")
    assert relisted.size == listed.size and first_version != object_store.object_version(f"{landing}/{KEY}", options)

    # the ledger as it stands after landing the first version
    known = KnownFiles()
    exported_at = listed.modified.astimezone(dt.UTC)
    known.add(
        FileReport(
            source="historian",
            source_file=KEY,
            file_sha256="0" * 64,
            status="landed",
            exported_at=exported_at,
            size_bytes=listed.size,
            file_version=first_version,
        )
    )
    lakehouse = Lakehouse(f"{prefix}/lakehouse", storage_options=options)
    config = parse_plant_config(one_machine_config())
    (report,), _notes = land_remote_files(lakehouse, config, landing, known)
    assert (report.status, report.rows_in, report.rows_new) == ("landed", 1, 1)

    # the version now in the ledger is the second one: nothing is downloaded again
    (again,), _notes = land_remote_files(lakehouse, config, landing, known)
    assert (again.status, again.file_sha256) == ("skipped", "")

"""`iiot-lakehouse status`: where the lakehouse stands: the last file landed, the last day published, the days
waiting to be rebuilt, the published marts' failing audit checks, and the sources that stopped sending.

Exit 1 when an audit check fails or a source is stale (a plant YAML source with `expected_every`); the last
line says which. Days waiting for their rebuild are normal between a landing and the next run.
"""

from __future__ import annotations

import datetime as dt

from assets.marts.audit import audit_published_marts
from assets.marts.publish import stale_days
from assets.marts.published import published_marts_exist
from assets.silver import watermarks
from assets.storage.schemas import FILE_LEDGER

from .errors import CommandError
from .reading import local, locations_and_plant, query

AUDITED_DAYS = 7  # the published days audited again: the latest ones, where silver may have moved on


def cmd_status(args) -> int:
    where, config = locations_and_plant()
    tz, now = config.tz, dt.datetime.now(dt.UTC)
    root, options = where.lakehouse_root, where.storage_options
    print(f"lakehouse {root} (times in {config.timezone})")

    ledger = {"ledger": FILE_LEDGER}
    last = query(
        where,
        ledger,
        "select source_file, landed_at from ledger where status = 'landed' "
        "order by landed_at desc, source_file limit 1",
    )
    if last:
        print(f"last file landed: {last[0]['source_file']} at {local(last[0]['landed_at'], tz)}")
    else:
        print("last file landed: none yet")

    builds = watermarks.read_builds(root, options) or {}
    published = sorted(day for day, b in builds.items() if b.marts is not None)
    if published:
        print(f"last day published: {published[-1]} (at {local(builds[published[-1]].marts[1], tz)})")
    else:
        print("last day published: none yet")

    waiting = watermarks.ended(config, stale_days(root, config, options), now)
    print(f"days waiting to be rebuilt: {len(waiting)}" + ("; rebuild them: iiot-lakehouse run" if waiting else ""))
    for stale in waiting:
        print(f"  {stale}")

    problems: list[str] = []
    checked = published[-AUDITED_DAYS:]
    failing = (
        audit_published_marts(root, config, checked, options)
        if checked and published_marts_exist(root, options)
        else []
    )
    print(
        f"failing checks: {len(failing)}" + (f" (the last {len(checked)} published day(s) audited)" if checked else "")
    )
    for problem in failing:
        print(f"  {problem}")
    if failing:
        problems.append(f"{len(failing)} audit check(s) failing")

    stale_sources = _stale_sources(where, config, now)
    print(f"stale sources: {len(stale_sources)}")
    for line in stale_sources:
        print(f"  {line}")
    if stale_sources:
        problems.append(f"{len(stale_sources)} source(s) stale")
    if problems:
        raise CommandError("; ".join(problems))
    print("status: ok")
    return 0


def _every(source) -> dt.timedelta | None:
    """A source's `expected_every` (plant YAML) as a duration; None where the config has none."""
    every = getattr(source, "expected_every", None)
    if every is None or isinstance(every, dt.timedelta):
        return every
    if isinstance(every, int | float):
        return dt.timedelta(seconds=every)
    return None


def _stale_sources(where, config, now: dt.datetime) -> list[str]:
    """The sources with an `expected_every` whose last file arrived longer ago than that (or never)."""
    expected = {s.name: every for s in config.sources if (every := _every(s)) is not None}
    if not expected:
        return []
    rows = query(where, {"ledger": FILE_LEDGER}, "select source, max(landed_at) as last from ledger group by source")
    last = {r["source"]: r["last"] for r in rows}
    lines = []
    for name, every in expected.items():
        arrived = last.get(name)
        if arrived is None:
            lines.append(f"{name}: no file yet (expected every {every})")
        elif now - arrived > every:
            lines.append(f"{name}: last file {local(arrived, config.tz)}, expected every {every}")
    return lines

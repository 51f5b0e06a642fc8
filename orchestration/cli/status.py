"""`iiot-lakehouse status`: where the lakehouse stands: the last file landed, the last day published, the days
waiting to be rebuilt, the published marts' failing audit checks, and the sources that stopped sending.

Exit 1 when an audit check fails (of the published marts, or a day's last publish), or a source is stale
(no file for twice its `expected_every`, as the freshness check fails; a late source, past `expected_every`
once, is listed only); the last line says which.
Days waiting for their rebuild are normal between a landing and the next run.
"""

from __future__ import annotations

import datetime as dt

from assets.bronze.freshness import last_landed, source_freshness
from assets.marts.audit import audit_published_marts
from assets.marts.publish import stale_days
from assets.marts.published import published_marts_exist
from assets.silver import watermarks
from assets.storage.lakehouse import Lakehouse
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
    # a day whose last publish failed its audit keeps its previous numbers in the published marts, so their
    # audit above passes: the failure is the day watermark's (watermarks.MARTS_FAILED_LAYER)
    failed_days = [d for d, b in sorted(builds.items()) if b.failing]
    if failed_days:  # (said only when there are some: a healthy lakehouse's status reads as before)
        print(f"days failing their audit: {len(failed_days)}; see why: iiot-lakehouse run")
    for day in failed_days:
        failed_at = local(builds[day].failed[1], tz)
        print(f"  {day}: its last publish failed at {failed_at}; the marts keep its previous numbers")
    if failed_days:
        problems.append(f"{len(failed_days)} production day(s) failing their audit: {', '.join(map(str, failed_days))}")

    late_sources = _stale_sources(where, config, now)
    print(f"stale sources: {len(late_sources)}")
    for line in late_sources:
        print(f"  {line}")
    stale = [line for line in late_sources if line.startswith("stale")]
    if stale:
        problems.append(f"{len(stale)} source(s) stale")
    if problems:
        raise CommandError("; ".join(problems))
    print("status: ok")
    return 0


def _stale_sources(where, config, now: dt.datetime) -> list[str]:
    """The sources with an `expected_every` that are late (no file for longer than that) or stale (for twice
    that, or none ever), by the same rule as the freshness checks in the Dagster UI."""
    expected = {s.name: s.expected_every for s in config.sources if s.expected_every is not None}
    if not expected:
        return []
    landed = last_landed(Lakehouse(where.lakehouse_root, where.storage_options))
    return [f"{f.state}: {f.describe()}" for f in source_freshness(expected, landed, now) if f.state != "fresh"]

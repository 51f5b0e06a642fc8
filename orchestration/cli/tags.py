"""`iiot-lakehouse tags`: the tag catalog, every tag that has landed, with what the plant config maps it to."""

from __future__ import annotations

import argparse

from ..analyst_sql import format_table
from .reading import local, locations_and_plant, mapped_to, tag_catalog


def cmd_tags(args: argparse.Namespace) -> int:
    where, config = locations_and_plant()
    rows = tag_catalog(
        where,
        config,
        "($source is null or source = $source) and (not $unmapped or not mapped) "
        "and ($like is null or tag ilike $like)",
        {"source": args.source, "unmapped": args.unmapped, "like": args.like},
    )
    if not rows:
        print("no tags" + (" match" if args.source or args.unmapped or args.like else " have landed yet"))
        return 0
    tz = config.tz
    print(f"times in {config.timezone}")
    names = ["tag", "source", "first_seen", "last_seen", "points", "bad_share", "unit", "mapped_to"]
    table = [
        (
            r["tag"],
            r["source"],
            local(r["first_seen"], tz),
            local(r["last_seen"], tz),
            r["points"],
            "-" if r["bad_share"] is None else f"{r['bad_share']:.1%}",
            r["unit"] or "",
            mapped_to(r),
        )
        for r in rows
    ]
    print(format_table(names, table))
    unmapped = sum(1 for r in rows if not r["mapped"])
    print(f"{len(rows)} tag(s), {unmapped} not mapped")
    return 0

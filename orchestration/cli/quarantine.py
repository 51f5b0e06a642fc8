"""`iiot-lakehouse quarantine`: the rows that could not be landed, grouped by file and reason, with their line
numbers and the raw text as read."""

from __future__ import annotations

import argparse

from assets.storage.schemas import QUARANTINE
from assets.storage.settings import locations_from_env
from assets.storage.sql_files import sql_file

from .errors import CommandError
from .reading import query


def cmd_quarantine(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CommandError(f"--limit must be at least 1 (got {args.limit})")
    rows = query(
        locations_from_env(),
        {"quarantine": QUARANTINE},
        sql_file("cli/quarantine.sql"),
        {"file": args.file, "reason": args.reason, "limit": args.limit},
    )
    if not rows:
        print("no quarantined rows" + (" match" if args.file or args.reason else ""))
        return 0
    group = None
    for row in rows:
        if (row["source_file"], row["reason"]) != group:
            group = (row["source_file"], row["reason"])
            print(f"{row['source_file']}: {row['reason']} ({row['group_rows']} row(s))")
        line = "?" if row["line"] is None else row["line"]
        print(f"  line {line}: {row['raw'] if row['raw'] is not None else ''}")
    total, files = rows[0]["all_rows"], rows[0]["all_files"]
    if total > len(rows):
        print(f"(only the first {len(rows)} rows; use --limit)")
    print(f"{total} quarantined row(s) in {files} file(s)")
    return 0

"""`iiot-lakehouse sql`: query the published marts read-only (orchestration/analyst_sql.py runs the query).

Nothing here imports Dagster at module level; only the lakehouse resource does, looked up inside the command.
"""

from __future__ import annotations

import argparse

from assets.marts.published import fetch_published_marts, marts_uri

from ..analyst_sql import AnalystSqlError
from ..analyst_sql import main as run_sql
from .errors import CommandError


def cmd_sql(args: argparse.Namespace) -> int:
    # the resource is declared with Dagster's resource types: imported here, for the start-up time of `sql`
    from ..resources import resource_from_env

    try:
        lakehouse = resource_from_env()
        # a remote lakehouse's marts are downloaded to this machine's cache first, then queried there
        target = fetch_published_marts(lakehouse.lakehouse_root, lakehouse.storage_options())
        if not target.is_file():
            raise CommandError(
                f"no published marts at {marts_uri(lakehouse.lakehouse_root)}; run `iiot-lakehouse run` first"
            )
        return run_sql(target, args.query, args.sql_format, args.memory_limit, args.max_rows, args.timeout)
    except AnalystSqlError as exc:
        raise CommandError(str(exc)) from None

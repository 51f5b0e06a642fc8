"""`iiot-lakehouse sql`: query the published marts read-only (orchestration/analyst_sql.py runs the query).

Starts without Dagster: the locations come from assets/storage/settings.py, not the lakehouse resource.
Timestamps are shown in the plant's time zone (`--utc`: in UTC).
"""

from __future__ import annotations

import argparse

from assets.marts.published import fetch_published_marts, marts_uri
from assets.plant.config import load_plant_config
from assets.storage.settings import locations_from_env

from ..analyst_sql import AnalystSqlError
from ..analyst_sql import main as run_sql
from .errors import CommandError


def cmd_sql(args: argparse.Namespace) -> int:
    where = locations_from_env()
    timezone = "UTC" if args.utc else load_plant_config(where.plant_config).timezone
    try:
        # a remote lakehouse's marts are downloaded to this machine's cache first, then queried there
        target = fetch_published_marts(where.lakehouse_root, where.storage_options)
        if not target.is_file():
            raise CommandError(
                f"no published marts at {marts_uri(where.lakehouse_root)}; run `iiot-lakehouse run` first"
            )
        return run_sql(
            target, args.query, args.sql_format, args.memory_limit, args.max_rows, args.timeout, timezone=timezone
        )
    except AnalystSqlError as exc:
        raise CommandError(str(exc)) from None

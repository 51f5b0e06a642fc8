"""`iiot-lakehouse marts-download`: copy the published marts file (local or in object storage) to a destination."""

from __future__ import annotations

import argparse
import shutil

from assets.marts.published import MARTS_FILE, marts_path, marts_uri
from assets.storage import object_store

from ..resources import resource_from_env
from .errors import CommandError


def cmd_marts_download(args: argparse.Namespace) -> int:
    lakehouse = resource_from_env()
    source = marts_uri(lakehouse.lakehouse_root)
    dest = args.dest / MARTS_FILE if args.dest.is_dir() else args.dest
    if object_store.is_remote(source):
        options = lakehouse.storage_options()
        if not object_store.exists(source, options):
            raise CommandError(f"no published marts at {source}; run `iiot-lakehouse run` first")
        object_store.download(source, dest, options)
    else:
        if not marts_path(lakehouse.lakehouse_root).is_file():
            raise CommandError(f"no published marts at {source}; run `iiot-lakehouse run` first")
        shutil.copyfile(source, dest)
    print(f"marts copied from {source} to {dest}")
    print(f"  open read-only with: duckdb -readonly {dest}")
    return 0

"""`iiot-lakehouse demo`: write the demo plant's historian exports into LANDING_ROOT (a folder or object storage)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import yaml

from assets.demo.generator import demo_source, write_demo_exports
from assets.plant.calendar import production_day_of
from assets.plant.config import DEFAULT_PLANT_CONFIG, load_plant_config
from assets.storage import object_store
from assets.storage.settings import demo_plant_path

from ..resources import settings_from_env
from .errors import CommandError


def _demo_to_object_store(landing_uri: str, config, start: dt.date, args: argparse.Namespace) -> list[str]:
    """Write the demo exports to a local folder, then upload each under the landing prefix."""
    options = object_store.storage_options_from_env()
    with tempfile.TemporaryDirectory(prefix="iiot-demo-") as folder:
        local = Path(folder)
        paths = write_demo_exports(local, config, start=start, days=args.days, seed=args.seed, fmt=args.fmt)
        uris = []
        for path in paths:
            uri = f"{landing_uri}/{Path(path).relative_to(local).as_posix()}"
            object_store.upload(Path(path), uri, options)
            uris.append(uri)
    return uris


def write_demo_plant(path: Path, first_day: dt.date) -> dt.date:
    """Write the embedded demo plant with calendar.first_day set to `first_day`, or to the first day an
    earlier demo wrote there if that is earlier (its built days stay partitions); return the day written.
    Only that line changes: the file keeps the embedded one's comments."""
    if path.is_file():
        first_day = min(first_day, load_plant_config(path).calendar.first_day)
    text, found = re.subn(
        r'^(\s+first_day:\s*)"[0-9-]+"',
        lambda m: f'{m.group(1)}"{first_day.isoformat()}"',
        DEFAULT_PLANT_CONFIG.read_text(encoding="utf-8"),
        count=1,
        flags=re.MULTILINE,
    )
    if not found:
        raise CommandError(f"{DEFAULT_PLANT_CONFIG}: no calendar.first_day line to set")
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".tmp")
    staged.write_text(text, encoding="utf-8")
    staged.replace(path)  # a UI loading the plant meanwhile reads the old file or the new, never half of one
    return first_day


def cmd_demo(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    # Without PLANT_CONFIG the demo plant is the embedded one; the demo writes a copy whose partitions begin
    # at its first day. Its points come from the embedded plant (its first_day is the counters' epoch), so a
    # later demo repeats the days an earlier one wrote.
    embedded = not os.environ.get("PLANT_CONFIG")
    config = load_plant_config(DEFAULT_PLANT_CONFIG if embedded else settings["plant_config"])
    if args.days < 1:
        raise CommandError("--days must be at least 1")
    # by default the days up to the last one that has ended, so that `run` can build every one of them
    start = args.start or (production_day_of(config, dt.datetime.now(dt.UTC)) - dt.timedelta(days=args.days))
    fmt = args.fmt
    if object_store.is_remote(settings["landing_root"]):
        landing = settings["landing_root"].rstrip("/")
        paths = _demo_to_object_store(landing, config, start, args)
    else:
        landing = Path(settings["landing_root"]).expanduser().resolve()
        paths = write_demo_exports(landing, config, start=start, days=args.days, seed=args.seed, fmt=fmt)
    written = f"{fmt} export files" if fmt else "export files"
    print(
        f"demo plant {config.site}: wrote {len(paths)} {written} for {args.days} production days "
        f"from {start} into {landing}"
    )
    written_plant = demo_plant_path(settings["lakehouse_root"]) if embedded else None
    if written_plant is not None:
        first_day = write_demo_plant(written_plant, start)
        print(f"demo plant with calendar.first_day {first_day}: {written_plant} (read while PLANT_CONFIG is unset)")
    if fmt and not any(s.format == fmt for s in config.sources):
        print()
        print(f"The plant config ({settings['plant_config']}) has no {fmt} source, so `iiot-lakehouse run`")
        print(f"will not land {landing}/{fmt}. Add this source to its `sources:` list:")
        print()
        print(_source_yaml(demo_source(config, fmt)))
    return 0


def _source_yaml(source) -> str:
    """A plant-config `sources:` entry for a source, as the user pastes it."""
    entry = {"name": source.name, "format": source.format, "folder": source.folder, "timezone": source.timezone}
    if source.options:
        entry["options"] = dict(source.options)
    text = yaml.safe_dump([entry], sort_keys=False, default_flow_style=False, allow_unicode=True)
    return "\n".join("  " + line for line in text.rstrip().splitlines())

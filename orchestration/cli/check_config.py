"""`iiot-lakehouse check-config`: validate the plant YAML, list the sources' folders, and compare the tags it maps
with the tags that have landed (the tag catalog). Exit 1 on an invalid config (the error says where)."""

from __future__ import annotations

import argparse
from pathlib import Path

from assets.plant.tags import model_tags_table
from assets.storage import object_store

from .reading import locations_and_plant, tag_catalog


def cmd_check_config(args: argparse.Namespace) -> int:
    # an invalid config raises PlantConfigError: the CLI's entry prints it in the form `run` does, exit 1
    where, config = locations_and_plant()
    print(f"plant config {where.plant_config}: valid")
    print(f"sources (folders under LANDING_ROOT {where.landing_root}):")
    remote = object_store.is_remote(where.landing_root)
    for source in config.sources:
        if remote:
            folder, state = f"{where.landing_root}/{source.folder}", ""
        else:
            path = Path(where.landing_root) / source.folder
            folder, state = str(path), "" if path.is_dir() else " (missing)"
        print(f"  {source.name} ({source.format}): {folder}{state}")

    seen = {r["tag"]: r for r in tag_catalog(where, config)}
    model = model_tags_table(config).to_pylist()
    never_seen = sorted((m for m in model if m["tag"] not in seen), key=lambda m: m["tag"])
    print(f"mapped tags never seen in bronze: {len(never_seen)}")
    for m in never_seen:
        print(f"  {m['tag']} ({m['line']}/{m['machine']}/{m['role']})")
    unmapped = [r for r in seen.values() if not r["mapped"]]
    print(f"seen tags that nothing maps: {len(unmapped)}")
    for r in unmapped:
        print(f"  {r['tag']} ({r['source']}, {r['points']} point(s))")
    print(
        f"plant config valid: {len(config.sources)} source(s), {len(config.machines)} machine(s), "
        f"{len(model)} tag(s) mapped"
    )
    return 0

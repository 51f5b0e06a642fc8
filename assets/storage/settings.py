"""Where the lakehouse, the landing folder and the plant YAML are, from the environment, without Dagster.

The lakehouse resource (resource.py) is declared with Dagster's resource types; the CLI's quick commands
(`sql`, `tags`, `quarantine`, `status`, `check-config`) read the same settings from here so they start
without loading Dagster.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assets.plant.config import DEFAULT_PLANT_CONFIG
from assets.storage import delta, object_store

DEFAULT_LAKEHOUSE_ROOT = "./data/lakehouse"
DEFAULT_LANDING_ROOT = "./data/landing"
# The demo plant as `iiot-lakehouse demo` writes it into a local lakehouse root: assets/demo/plant.yaml with
# calendar.first_day set to the demo's first day, so its partitions begin where its exports do.
DEMO_PLANT_FILE = "demo_plant.yaml"


def demo_plant_path(lakehouse_root: str) -> Path | None:
    """Where `iiot-lakehouse demo` writes the demo plant for a lakehouse root (None: a remote root)."""
    if object_store.is_remote(lakehouse_root):
        return None
    return Path(lakehouse_root).expanduser().resolve() / DEMO_PLANT_FILE


def default_plant_config(lakehouse_root: str) -> str:
    """The plant YAML when PLANT_CONFIG is unset: the demo plant the demo wrote, or the embedded one."""
    written = demo_plant_path(lakehouse_root)
    return str(written) if written is not None and written.is_file() else str(DEFAULT_PLANT_CONFIG)


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The configuration contract: environment variables with defaults, so the demo needs none set."""
    env = os.environ if environ is None else environ
    lakehouse_root = env.get("LAKEHOUSE_ROOT") or DEFAULT_LAKEHOUSE_ROOT
    return {
        "lakehouse_root": lakehouse_root,
        "landing_root": env.get("LANDING_ROOT") or DEFAULT_LANDING_ROOT,
        "plant_config": env.get("PLANT_CONFIG") or default_plant_config(lakehouse_root),
    }


@dataclass(frozen=True)
class Locations:
    """The settings resolved as the resource resolves them: roots normalised, the plant YAML's absolute path."""

    lakehouse_root: str
    landing_root: str
    plant_config: str
    storage_options: dict[str, str]


def locations_from_env(environ: Mapping[str, str] | None = None) -> Locations:
    env = os.environ if environ is None else environ
    settings = settings_from_env(env)
    return Locations(
        lakehouse_root=delta.normalise_root(settings["lakehouse_root"]),
        landing_root=delta.normalise_root(settings["landing_root"]),
        plant_config=str(Path(settings["plant_config"]).expanduser().resolve()),
        storage_options=object_store.storage_options_from_env(env),
    )

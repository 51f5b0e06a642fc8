"""The one resource every asset uses: where the lakehouse and the landing folder are, and which plant."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import dagster as dg

from assets.core.landing import Lakehouse
from assets.core.plant import DEFAULT_PLANT_CONFIG, PlantConfig, load_plant_config

DEFAULT_LAKEHOUSE_ROOT = "./data/lakehouse"
DEFAULT_LANDING_ROOT = "./data/landing"


class LakehouseResource(dg.ConfigurableResource):
    """Locations of the lakehouse (Delta tables and the published marts), the landing folder and the
    plant YAML. Defaults come from LAKEHOUSE_ROOT, LANDING_ROOT and PLANT_CONFIG."""

    lakehouse_root: str
    landing_root: str
    plant_config: str

    def plant(self) -> PlantConfig:
        return _load_cached(str(Path(self.plant_config).resolve()), _mtime(self.plant_config))

    def lakehouse(self) -> Lakehouse:
        return Lakehouse(root=self.lakehouse_root)

    def landing_path(self) -> Path:
        return Path(self.landing_root).expanduser().resolve()


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> PlantConfig:
    return load_plant_config(path)


def settings_from_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The configuration contract: environment variables with defaults, so the demo needs none set."""
    env = os.environ if environ is None else environ
    return {
        "lakehouse_root": env.get("LAKEHOUSE_ROOT") or DEFAULT_LAKEHOUSE_ROOT,
        "landing_root": env.get("LANDING_ROOT") or DEFAULT_LANDING_ROOT,
        "plant_config": env.get("PLANT_CONFIG") or str(DEFAULT_PLANT_CONFIG),
    }


def resource_from_env(environ: dict[str, str] | None = None) -> LakehouseResource:
    settings = settings_from_env(environ)
    lakehouse_root = settings["lakehouse_root"]
    if "://" not in lakehouse_root:
        lakehouse_root = str(Path(lakehouse_root).expanduser().resolve())
    return LakehouseResource(
        lakehouse_root=lakehouse_root,
        landing_root=str(Path(settings["landing_root"]).expanduser().resolve()),
        plant_config=str(Path(settings["plant_config"]).expanduser().resolve()),
    )

"""The one resource every asset uses: where the lakehouse and the landing folder are, and which plant."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import dagster as dg

from assets.plant.config import PlantConfig, load_plant_config
from assets.storage import object_store
from assets.storage.lakehouse import Lakehouse
from assets.storage.settings import locations_from_env


class LakehouseResource(dg.ConfigurableResource):
    """Locations of the lakehouse (Delta tables and the published marts), the landing folder and the
    plant YAML. Defaults come from LAKEHOUSE_ROOT, LANDING_ROOT and PLANT_CONFIG.

    Either root may be an `s3://bucket/prefix` URI. The store's credentials and endpoint come from the
    standard AWS_* variables as Dagster EnvVars, so the UI and run records show the variable names, never
    the values. A remote lakehouse is probed once per process before anything is written (see
    `object_store.require_safe_commits`).
    """

    lakehouse_root: str
    landing_root: str
    plant_config: str
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    aws_allow_http: str | None = None

    def plant(self) -> PlantConfig:
        return _load_cached(str(Path(self.plant_config).resolve()), _mtime(self.plant_config))

    def storage_options(self) -> dict[str, str]:
        """delta-rs storage options for the object store (empty for a local lakehouse)."""
        options = {}
        for option in object_store.AWS_ENV_OPTIONS.values():
            value = getattr(self, option)
            if isinstance(value, dg.EnvVar):  # a resource not yet resolved by Dagster (e.g. in the CLI)
                value = value.get_value()
            if value:
                options[option] = value
        return options

    def lakehouse(self) -> Lakehouse:
        return Lakehouse(root=self.lakehouse_root, storage_options=self.storage_options())

    def landing_path(self) -> Path | str:
        """The landing folder: a local path, or the s3:// URI of the landing prefix."""
        if object_store.is_remote(self.landing_root):
            return self.landing_root.rstrip("/")
        return Path(self.landing_root).expanduser().resolve()

    def check_store(self) -> None:
        """Refuse a remote lakehouse whose store cannot make concurrent commits safe."""
        object_store.require_safe_commits(self.lakehouse_root, self.storage_options())

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.check_store()


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> PlantConfig:
    return load_plant_config(path)


def resource_from_env(environ: dict[str, str] | None = None) -> LakehouseResource:
    env = os.environ if environ is None else environ
    where = locations_from_env(env)
    # only the AWS variables that are set: an EnvVar of an unset variable fails when Dagster resolves it
    aws = {option: dg.EnvVar(name) for name, option in object_store.AWS_ENV_OPTIONS.items() if env.get(name)}
    return LakehouseResource(
        lakehouse_root=where.lakehouse_root,
        landing_root=where.landing_root,
        plant_config=where.plant_config,
        **aws,
    )

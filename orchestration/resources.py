"""The resource every asset uses, for the orchestration's modules: it is declared in `assets.storage.resource`,
below the asset modules that take it, so that the assets never import the orchestration above them."""

from assets.storage.resource import LakehouseResource, resource_from_env
from assets.storage.settings import DEFAULT_LAKEHOUSE_ROOT, DEFAULT_LANDING_ROOT, settings_from_env

__all__ = [
    "DEFAULT_LAKEHOUSE_ROOT",
    "DEFAULT_LANDING_ROOT",
    "LakehouseResource",
    "resource_from_env",
    "settings_from_env",
]

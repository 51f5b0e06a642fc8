"""The per-format source options, as the readers use them (the registry is assets/plant/source_options.py)."""

from __future__ import annotations

from assets.plant.source_options import OPTION_DEFAULTS, SourceOptionsError, validate_source_options

__all__ = ["OPTION_DEFAULTS", "SourceOptionsError", "validate_source_options"]

"""How a mistake in the plant YAML is told: `<file>: <key path>: <problem>`.

The reader is a plant engineer editing YAML, so the key path names list items by their `name` where they
have one (`lines[L1].machines[FILLER].ideal_cycle_time_s`, not `lines[0].machines[0]...`) and a misspelt
key is answered with the known key it is closest to.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

# the error type of a problem worded here; its context may carry `at`, the key path below the place the
# validator that raised it looks at (a model validator checks several keys and names the one at fault)
PROBLEM = "plant_config"


class PlantConfigError(ValueError):
    """The plant YAML is missing a key or has a value that cannot be right."""


def problem(message: str, *at: str | int) -> PydanticCustomError:
    """A problem in the engineer's words, at the validated value or at the key path `at` below it."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message, "at": tuple(at)})


def key_path(raw: Any, loc: Sequence[str | int]) -> str:
    """`loc` as the engineer reads it: a list item by its name where it has a valid one, else its index."""
    path, node = "", raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            name = item.get("name") if isinstance(item, dict) else None
            label = name if isinstance(name, str) and NAME_RE.match(name) else part
            path, node = f"{path}[{label}]", item
        elif isinstance(part, int):
            path, node = f"{path}[{part}]", None
        else:
            path = f"{path}.{part}" if path else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return path or "(top level)"


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose key `loc` ends in, to suggest its closest known key."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        inner = _models_in(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _models_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _models_in(arg)
        if found is not None:
            return found
    return None


def did_you_mean(key: str, known: Sequence[str]) -> str:
    """`; did you mean <closest>?` for a misspelt key, or nothing when no known key is close."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def config_error(exc: ValidationError, raw: Any, origin: str, model: type[BaseModel]) -> PlantConfigError:
    """The first problem pydantic found, told as `<origin>: <key path>: <problem>`."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == PROBLEM:
        loc += list(ctx.get("at", ()))
        message = ctx["message"]
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        known = [n for n, f in parent.model_fields.items() if f.exclude is not True] if parent else []
        message = "is not a known key" + did_you_mean(str(loc[-1]), known)
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"must be a mapping, got {type(error['input']).__name__}"
    else:
        message = f"{error['msg'][0].lower()}{error['msg'][1:]}, got {error['input']!r}"
    return PlantConfigError(f"{origin}: {key_path(raw, loc)}: {message}")

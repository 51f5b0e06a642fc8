"""The checks of single values in the plant YAML, worded for the engineer, and the base of its models.

Each check raises `problem(...)` (assets/plant/errors.py), so a bad value is reported with the file and
the key path; the annotated types (`Name`, `Tag`, `Clock`, ...) carry their check and their JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema, model_validator

from assets.plant.errors import NAME_RE, problem

_TAG_RE = re.compile(r"^[^\x00-\x1f'\"]{1,256}$")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise problem(f"must be a name of letters, digits, '_', '.', '-', got {value!r}")
    return value


def _tag(value: Any) -> str:
    if not isinstance(value, str) or not _TAG_RE.match(value):
        raise problem(f"must be a tag name without quotes or control characters, got {value!r}")
    return value


def _clock(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 06:00 as the sexagesimal number 360.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise problem(f'must be a wall-clock time "HH:MM", got {value!r}')
    hours, minutes = int(value[:2]), int(value[3:])
    if hours > 23 or minutes > 59:
        raise problem(f"is not a time of day: {value!r}")
    return dt.time(hours, minutes)


def _timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise problem(f"must be an IANA time zone name such as Europe/Berlin, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise problem(f"is not a known IANA time zone: {value!r}") from None
    return value


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise problem(f"must be a positive number, got {value!r}")
    return float(value)


def non_empty_list(message: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise problem(message)
        return value

    return BeforeValidator(check)


def choice(choices: tuple[str, ...], message: str) -> BeforeValidator:
    def check(value: Any) -> str:
        if value not in choices:
            raise problem(message.format(value=value, choices=", ".join(choices)))
        return value

    return BeforeValidator(check)


_CLOCK_SCHEMA = {"type": "string", "pattern": r"^\d{2}:\d{2}$", "examples": ["06:00"]}
Name = Annotated[str, BeforeValidator(_name), WithJsonSchema({"type": "string", "pattern": NAME_RE.pattern})]
Tag = Annotated[str, BeforeValidator(_tag), WithJsonSchema({"type": "string", "pattern": _TAG_RE.pattern})]
Clock = Annotated[dt.time, BeforeValidator(_clock), WithJsonSchema(_CLOCK_SCHEMA)]
TimeZoneName = Annotated[
    str, BeforeValidator(_timezone), WithJsonSchema({"type": "string", "examples": ["Europe/Berlin"]})
]
Positive = Annotated[float, BeforeValidator(_positive), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})]


def set_derived(model: BaseModel, key: str, value: Any) -> None:
    """Fill in a value derived while validating (the models are frozen once built)."""
    model.__dict__[key] = value


class PlantModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_unset(cls, data: Any) -> Any:
        # `key:` with nothing after it reads as null in YAML: the key's default, or "is required"
        if isinstance(data, dict):
            return cls._inherit({k: v for k, v in data.items() if v is not None})
        return data

    @classmethod
    def _inherit(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Hand values down to the nested items (a source's default time zone, a machine's line)."""
        return data

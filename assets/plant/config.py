"""The plant configuration: hierarchy, tags, calendar and sources, loaded from YAML and validated.

The configuration is a tree of pydantic models; each key's type, default and description is declared
once here, and the JSON Schema (docs/plant.schema.json, for completion in an editor) and the reference
page (docs/plant-reference.md) are generated from them (assets/plant/docs.py). Every error names
the file, the key path and the problem, because the person reading it is a plant engineer editing
YAML, not a Python developer (assets/plant/errors.py).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from assets.plant.errors import NAME_RE, PlantConfigError, config_error, problem
from assets.plant.source_options import (
    OPTION_DEFAULTS,
    SourceOptionsError,
    options_json_schema,
    validate_source_options,
)
from assets.plant.timestamps import earliest_default

__all__ = [
    "DEFAULT_PLANT_CONFIG",
    "SOURCE_FORMATS",
    "STATE_CATEGORIES",
    "WEEKDAYS",
    "Automation",
    "Break",
    "CalendarConfig",
    "Line",
    "Machine",
    "PlantConfig",
    "PlantConfigError",
    "Shift",
    "Source",
    "StateMapping",
    "load_plant_config",
    "parse_plant_config",
    "state_key",
]

STATE_CATEGORIES = ("running", "planned_stop", "unplanned_stop", "not_scheduled")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SOURCE_FORMATS = tuple(OPTION_DEFAULTS)  # the formats are the ones that have options
_TAG_RE = re.compile(r"^[^\x00-\x1f'\"]{1,256}$")

DEFAULT_PLANT_CONFIG = Path(__file__).resolve().parents[1] / "demo" / "plant.yaml"


def state_key(value: Any) -> str:
    """Normalise a state code so that 1, 1.0, "1" and "1.0" all look up the same map entry."""
    if isinstance(value, bool):
        raise TypeError("a state code cannot be a boolean")
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


# --- the checks of single values, worded for the engineer --------------------------------------------


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


def _non_empty_list(message: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise problem(message)
        return value

    return BeforeValidator(check)


def _choice(choices: tuple[str, ...], message: str) -> BeforeValidator:
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


def _set(model: BaseModel, key: str, value: Any) -> None:
    """Fill in a value derived while validating (the models are frozen once built)."""
    model.__dict__[key] = value


class _Model(BaseModel):
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


# --- the tree ---------------------------------------------------------------------------------------


class StateMapping(_Model):
    category: Annotated[
        str,
        _choice(STATE_CATEGORIES, "must be one of {choices}, got {value!r}"),
        WithJsonSchema({"enum": list(STATE_CATEGORIES)}),
    ] = Field(description="What the state means for OEE.")
    reason: str | None = Field(None, description="The reason reported with the state (a stop reason).")

    @model_validator(mode="before")
    @classmethod
    def _category_alone(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("reason", ""), str):
            raise problem(f"must be text, got {data['reason']!r}", "reason")
        return {"category": data} if isinstance(data, str) else data


class Shift(_Model):
    name: Name = Field(description="The shift's name, as the marts report it.")
    start: Clock = Field(description='Wall-clock start "HH:MM".')
    end: Clock = Field(description='Wall-clock end "HH:MM"; a shift ending when it starts lasts the whole day.')


class Break(_Model):
    name: Name = Field(description="The break's name.")
    start: Clock = Field(description='Wall-clock start "HH:MM".')
    end: Clock = Field(description='Wall-clock end "HH:MM".')

    @model_validator(mode="after")
    def _has_length(self) -> Break:
        if self.start == self.end:
            raise problem("a break cannot start and end at the same time")
        return self


def _weekdays(value: Any) -> frozenset[int]:
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    if not isinstance(value, list) or not value:
        raise problem("must be a non-empty list such as [mon, tue, wed, thu, fri]")
    working: set[int] = set()
    for i, day in enumerate(value):
        key = str(day).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise problem(f"is not a weekday (mon..sun): {day!r}", i)
        working.add(WEEKDAYS.index(key))
    return frozenset(working)


def _date(value: Any) -> dt.date:
    try:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        raise problem(f"must be a date YYYY-MM-DD, got {value!r}") from None


class CalendarConfig(_Model):
    day_start: Clock = Field(
        dt.time(0, 0),
        description="When the production day starts (plant time).",
        json_schema_extra={"default": "00:00"},
    )
    working_days: Annotated[
        frozenset[int],  # 0 = Monday, as datetime.weekday()
        BeforeValidator(_weekdays),
        WithJsonSchema({"type": "array", "minItems": 1, "items": {"enum": list(WEEKDAYS)}}),
    ] = Field(
        frozenset(range(5)),
        description="The days with shifts; the others are not scheduled.",
        json_schema_extra={"default": list(WEEKDAYS[:5])},
    )
    shifts: Annotated[tuple[Shift, ...], _non_empty_list("must be a non-empty list of {name, start, end}")] = Field(
        description="The shifts of a working day; they must not overlap."
    )
    breaks: tuple[Break, ...] = Field((), description="Planned breaks of every shift (planned stop time).")
    first_day: Annotated[dt.date, BeforeValidator(_date), WithJsonSchema({"type": "string", "format": "date"})] = Field(
        dt.date(2025, 1, 1), description="The first production day the lakehouse builds."
    )

    @model_validator(mode="after")
    def _shifts_are_apart(self) -> CalendarConfig:
        names: list[str] = []
        for i, shift in enumerate(self.shifts):
            if shift.name in names:
                raise problem(f"shift name {shift.name!r} is used twice", "shifts", i, "name")
            names.append(shift.name)
        # Compare the shifts as arcs on a 24 h clock; overlapping shifts would count a second twice.
        covered: dict[int, str] = {}
        for shift in self.shifts:
            start, end = _minutes(shift.start), _minutes(shift.end)
            # a shift that ends when it starts is one whole wall-clock day (23 or 25 h on a clock change)
            length = (end - start) % 1440 or 1440
            for k in range(length):
                minute = (start + k) % 1440
                if minute in covered:
                    raise problem(f"shifts {covered[minute]!r} and {shift.name!r} overlap", "shifts")
                covered[minute] = shift.name
        return self


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _folder(value: Any) -> str:
    if not isinstance(value, str) or value.startswith("/") or ".." in Path(value).parts or not value:
        raise problem(f"must be a relative folder inside LANDING_ROOT, got {value!r}")
    return value


def _mapping(value: Any) -> Any:
    if not isinstance(value, dict):
        raise problem(f"must be a mapping, got {type(value).__name__}")
    return value


class Source(_Model):
    name: Name = Field(description="The source's name.")
    format: Annotated[
        str,
        _choice(SOURCE_FORMATS, "unknown format {value!r}; known: {choices}"),
        WithJsonSchema({"enum": list(SOURCE_FORMATS)}),
    ] = Field(description="The export format its files are read as.")
    folder: Annotated[str, BeforeValidator(_folder)] = Field(
        description="Its folder, relative to LANDING_ROOT (or the landing bucket)."
    )
    timezone: TimeZoneName = Field(
        description="The time zone of its times that carry no offset (default: plant.timezone)."
    )
    options: Annotated[dict[str, Any], BeforeValidator(_mapping)] = Field(
        default_factory=dict, description="The format's options (see the format's keys); defaults filled in."
    )

    model_config = ConfigDict(json_schema_extra=lambda schema: _source_schema(schema))


def _source_schema(schema: dict[str, Any]) -> None:
    # timezone may be left out (the plant's is handed down), and options complete by the source's format
    schema["required"] = [key for key in schema["required"] if key != "timezone"]
    schema["allOf"] = [
        {
            "if": {"properties": {"format": {"const": fmt}}},
            "then": {"properties": {"options": options_json_schema(fmt)}},
        }
        for fmt in SOURCE_FORMATS
    ]


# The keys only a machine with OEE has; a monitoring asset (no state tag, no counters) refuses them.
_OEE_ONLY_KEYS = (
    "ideal_cycle_time_s",
    "states",
    "counter_rollover",
    "counter_backstep_tolerance",
    "microstop_threshold_s",
)


# a state is its category alone or {category, reason}
_STATES_SCHEMA = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {
        "anyOf": [
            {"enum": list(STATE_CATEGORIES)},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["category"],
                "properties": {
                    "category": {"enum": list(STATE_CATEGORIES), "description": "What the state means for OEE."},
                    "reason": {"type": "string", "description": "The reason reported with the state (a stop reason)."},
                },
            },
        ]
    },
}


def _states(value: Any) -> Any:
    if not isinstance(value, dict):
        raise problem(f"must be a mapping, got {type(value).__name__}")
    if not value:
        raise problem("must map at least one state code to a category")
    try:
        return {state_key(code): mapping for code, mapping in value.items()}
    except TypeError as exc:
        raise problem(str(exc)) from None


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise problem(f"must be a whole number of counts >= 0, got {value!r}")
    return value


class Machine(_Model):
    """A machine of a line. A machine with a state tag, its state map, two counters and an ideal cycle
    time has OEE; one with none of them (an energy meter, a compressor, a condition-monitoring asset) has
    energy and sensor figures only (`has_oee` is false)."""

    name: Name = Field(description="The machine's name, unique on its line.")
    # the line and area it stands in, handed down from the line (not keys of the YAML)
    line: SkipJsonSchema[str] = Field("", exclude=True)
    area: SkipJsonSchema[str] = Field("", exclude=True)
    ideal_cycle_time_s: Positive | None = Field(
        None, description="Seconds per unit at ideal speed (OEE machines; required with state_tag)."
    )
    state_tag: Tag | None = Field(None, description="The tag of the machine state code; with it the machine has OEE.")
    states: Annotated[dict[str, StateMapping], BeforeValidator(_states), WithJsonSchema(_STATES_SCHEMA)] = Field(
        default_factory=dict,
        description="State code -> category, or {category, reason} (required with state_tag).",
    )
    total_count_tag: Tag | None = Field(None, description="The counter of all units (two of the three counters).")
    good_count_tag: Tag | None = Field(None, description="The counter of good units.")
    reject_count_tag: Tag | None = Field(None, description="The counter of rejected units.")
    counter_rollover: Positive | None = Field(
        None, description="The value at which the counters wrap to 0 (null: a drop is a reset)."
    )
    # a counter that steps back by at most this many counts is jitter, not a reset: nothing counts
    # until it passes its previous high again
    counter_backstep_tolerance: Annotated[
        int, BeforeValidator(_count), WithJsonSchema({"type": "integer", "minimum": 0})
    ] = Field(10, description="A counter stepping back by at most this many counts is jitter, not a reset.")
    energy_kwh_tag: Tag | None = Field(None, description="A cumulative energy meter in kWh (one of the energy tags).")
    energy_rollover: Positive | None = Field(None, description="The value at which the energy meter wraps to 0.")
    power_kw_tag: Tag | None = Field(None, description="A power reading in kW, integrated to energy.")
    energy_interval_kwh_tag: Tag | None = Field(None, description="The energy of each interval in kWh.")
    energy_interval_s: Positive | None = Field(
        None, description="Seconds per reading of energy_interval_kwh_tag (required with it)."
    )
    energy_interval_label: Annotated[
        str,
        _choice(("start", "end"), "must be start or end, got {value!r}"),
        WithJsonSchema({"enum": ["start", "end"]}),
    ] = Field("end", description="Whether an interval reading is stamped at its start or end.")
    # how long a power reading may stand for the energy until the next one; None: modelling's, else
    # three typical reading intervals of the tag (see sql/silver/energy_increments.sql)
    energy_max_gap_s: Positive | None = Field(
        None, description="How long a power reading stands for the energy at most (null: modelling's)."
    )
    microstop_threshold_s: Positive = Field(120.0, description="A stop shorter than this is a microstop.")

    @model_validator(mode="after")
    def _oee_or_monitoring(self) -> Machine:
        """Whether the machine has OEE (a state tag and two counters) or is a monitoring asset (neither): an
        energy meter, or a condition-monitoring asset with no tag of its own (its sensors are the tags no
        machine uses).

        A machine with part of what OEE needs is refused, naming what is missing: a state tag without
        counters, or counters without a state tag, would give OEE rows that are silently wrong."""
        given = [key for key in ("total_count_tag", "good_count_tag", "reject_count_tag") if getattr(self, key)]
        if self.state_tag is not None and len(given) < 2:
            raise problem(
                "needs two of total_count_tag, good_count_tag, reject_count_tag"
                + (f" (it has only {given[0]})" if given else "")
                + ": a machine with state_tag has OEE; a machine without state_tag and counters is a monitoring asset"
            )
        if self.state_tag is None and given:
            raise problem(
                f"is required with {', '.join(given)}: a machine with counters has OEE and needs state_tag, states, "
                "two counters and ideal_cycle_time_s",
                "state_tag",
            )
        if self.state_tag is not None:
            for key in ("states", "ideal_cycle_time_s"):
                if key not in self.model_fields_set:
                    raise problem("is required", key)
        else:
            for key in _OEE_ONLY_KEYS:
                if key in self.model_fields_set:
                    raise problem(
                        "a machine without state_tag has no OEE: remove "
                        f"{key} or add state_tag, states and two of total_count_tag, good_count_tag, reject_count_tag",
                        key,
                    )
        if len(self.energy_tags) > 1:
            raise problem("give one of energy_kwh_tag, power_kw_tag, energy_interval_kwh_tag, not several")
        if self.energy_interval_kwh_tag and self.energy_interval_s is None:
            raise problem("is required with energy_interval_kwh_tag (seconds per reading)", "energy_interval_s")
        return self

    @property
    def has_oee(self) -> bool:
        """Whether the machine has what OEE needs (the parser allows all of it or none of it)."""
        return self.state_tag is not None

    @property
    def energy_tags(self) -> dict[str, str]:
        """The configured energy sources: a cumulative meter, a power reading, or interval energy."""
        tags = {"meter": self.energy_kwh_tag, "power": self.power_kw_tag, "interval": self.energy_interval_kwh_tag}
        return {kind: tag for kind, tag in tags.items() if tag}

    @property
    def counter_tags(self) -> dict[str, str]:
        """The configured counter kinds ("total", "good", "reject") and their tags."""
        tags = {
            "total": self.total_count_tag,
            "good": self.good_count_tag,
            "reject": self.reject_count_tag,
        }
        return {kind: tag for kind, tag in tags.items() if tag}


class Line(_Model):
    name: Name = Field(description="The line's name, unique in the plant.")
    area: Name = Field(description="The area (hall, department) the line stands in.")
    machines: Annotated[tuple[Machine, ...], _non_empty_list("must be a non-empty list")] = Field(
        description="The line's machines, in the order the product passes them."
    )
    # the machine whose good units are the line's output (the line's "good units", its kWh per unit);
    # None on a line without a machine that has OEE
    output_machine: str | None = Field(
        None,
        description="The machine whose good units are the line's output (default: its last machine with OEE).",
    )

    @classmethod
    def _inherit(cls, data: dict[str, Any]) -> dict[str, Any]:
        machines = data.get("machines")
        if isinstance(machines, list):
            handed = []
            for j, machine in enumerate(machines):
                if isinstance(machine, dict):
                    for key in ("line", "area"):
                        if key in machine:
                            raise problem("is not a known key", "machines", j, key)
                    machine = {**machine, "line": data.get("name"), "area": data.get("area")}
                handed.append(machine)
            data = {**data, "machines": handed}
        return data

    @model_validator(mode="after")
    def _machines_and_output(self) -> Line:
        names: list[str] = []
        for j, machine in enumerate(self.machines):
            if machine.name in names:
                raise problem(f"machine {machine.name!r} is listed twice on {self.name}", "machines", j, "name")
            names.append(machine.name)
        oee_names = [m.name for m in self.machines if m.has_oee]
        if self.output_machine is None:
            _set(self, "output_machine", oee_names[-1] if oee_names else None)
        elif self.output_machine not in names:
            raise problem(
                f"must name a machine of the line ({', '.join(names)}), got {self.output_machine!r}", "output_machine"
            )
        elif self.output_machine not in oee_names:
            raise problem(
                f"{self.output_machine!r} has no state_tag and counters, so it counts no units: name a machine with OEE"
                + (f" ({', '.join(oee_names)})" if oee_names else "; this line has none, so leave output_machine out"),
                "output_machine",
            )
        return self

    @property
    def oee_machines(self) -> tuple[Machine, ...]:
        """The line's machines that have OEE (a state tag and counters), in the YAML's order."""
        return tuple(m for m in self.machines if m.has_oee)


class PlantSection(_Model):
    site: Name = Field(description="The site's name, as the marts report it.")
    timezone: TimeZoneName = Field(description="The plant's IANA time zone; production days are local to it.")


class Modelling(_Model):
    state_lookback_days: Annotated[
        int,
        BeforeValidator(lambda v: _days(v)),
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 366}),
    ] = Field(7, description="How many days back a machine's last state is looked for at the start of a day.")
    sensor_max_gap_s: Annotated[
        float, BeforeValidator(lambda v: _seconds(v)), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})
    ] = Field(900.0, description="How long a sensor reading stands for the signal at most.")
    energy_max_gap_s: Positive | None = Field(
        None,
        description="The plant's default of machines' energy_max_gap_s (null: three typical reading intervals).",
    )


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 366:
        raise problem(f"must be a whole number of days 1..366, got {value!r}")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise problem(f"must be a positive number of seconds, got {value!r}")
    return float(value)


class Automation(_Model):
    """What the Dagster daemon starts by itself once the definitions load. Each is on by default; one
    switched off here starts switched off in the UI, where it can still be started by hand."""

    daily_schedule: bool = Field(True, description="daily_oee_schedule: build each production day once it has ended.")
    landing_sensors: bool = Field(
        True, description="landing_folder_sensor and landed_days_sensor: land new files, rebuild the days they touch."
    )
    maintenance_schedule: bool = Field(
        True, description="weekly_maintenance_schedule: compact, vacuum and checkpoint the Delta tables on Sundays."
    )
    alerts: bool = Field(True, description="alert_sensor: send failed runs, checks and flagged days (see README).")


class PlantConfig(_Model):
    """The plant: its site and time zone, calendar, sources of exports, lines and machines."""

    plant: PlantSection = Field(description="The site.")
    calendar: CalendarConfig = Field(description="The production calendar: day start, working days, shifts, breaks.")
    sources: Annotated[
        tuple[Source, ...], _non_empty_list("must be a non-empty list of {name, format, folder, timezone}")
    ] = Field(description="The historian and sensor exports and the folders they land in.")
    lines: Annotated[tuple[Line, ...], _non_empty_list("must be a non-empty list of lines with machines")] = Field(
        description="The production lines and their machines."
    )
    modelling: Modelling = Field(default_factory=Modelling, description="How the modelling reads gaps and states.")
    automation: Automation = Field(
        default_factory=Automation, description="Which schedules and sensors run by themselves (all by default)."
    )

    @classmethod
    def _inherit(cls, data: dict[str, Any]) -> dict[str, Any]:
        plant, sources = data.get("plant"), data.get("sources")
        timezone = plant.get("timezone") if isinstance(plant, dict) else None
        if timezone is not None and isinstance(sources, list):
            sources = [
                {"timezone": timezone, **s} if isinstance(s, dict) and s.get("timezone") is None else s for s in sources
            ]
            data = {**data, "sources": sources}
        return data

    @model_validator(mode="after")
    def _names_and_tags_once(self) -> PlantConfig:
        source_names: list[str] = []
        for i, source in enumerate(self.sources):
            if source.name in source_names:
                raise problem(f"source name {source.name!r} is used twice", "sources", i, "name")
            source_names.append(source.name)
            # the options are checked here, where the plant is read, not when a Source is built: a reader
            # given a Source with a bad option rejects the file and names the option (readers/__init__.py)
            try:
                _set(source, "options", validate_source_options(source.format, source.options, "options"))
            except SourceOptionsError as exc:
                raise problem(exc.problem, "sources", i, "options", *([exc.key] if exc.key else [])) from None
            if source.options.get("earliest_timestamp") is None:
                # a point more than a year before the first production day is a broken clock, not history
                source.options["earliest_timestamp"] = earliest_default(self.calendar.first_day)
        seen_tags: dict[str, str] = {}
        line_names: list[str] = []
        for i, line in enumerate(self.lines):
            for j, machine in enumerate(line.machines):
                for tag in (machine.state_tag, *machine.counter_tags.values(), *machine.energy_tags.values()):
                    if tag is None:
                        continue
                    if tag in seen_tags:
                        raise problem(f"tag {tag!r} is already used by {seen_tags[tag]}", "lines", i, "machines", j)
                    seen_tags[tag] = f"{line.name}/{machine.name}"
            if line.name in line_names:
                raise problem(f"line name {line.name!r} is used twice", "lines", i, "name")
            line_names.append(line.name)
        return self

    @property
    def site(self) -> str:
        return self.plant.site

    @property
    def timezone(self) -> str:
        return self.plant.timezone

    @property
    def state_lookback_days(self) -> int:
        return self.modelling.state_lookback_days

    @property
    def sensor_max_gap_s(self) -> float:
        return self.modelling.sensor_max_gap_s

    @property
    def energy_max_gap_s(self) -> float | None:
        """The plant's default for machines that set none."""
        return self.modelling.energy_max_gap_s

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def machines(self) -> tuple[Machine, ...]:
        """Every machine, OEE machines and monitoring assets (energy and sensors only) alike."""
        return tuple(m for line in self.lines for m in line.machines)

    @property
    def oee_machines(self) -> tuple[Machine, ...]:
        """The machines that have OEE: a state tag, its states, counters and an ideal cycle time."""
        return tuple(m for m in self.machines if m.has_oee)


def parse_plant_config(raw: Any, origin: str = "plant config") -> PlantConfig:
    """Validate a parsed YAML document and build the typed plant configuration."""
    if not isinstance(raw, dict):
        raise PlantConfigError(f"{origin}: (top level): must be a mapping, got {type(raw).__name__}")
    try:
        return PlantConfig.model_validate(raw)
    except ValidationError as exc:
        raise config_error(exc, raw, origin, PlantConfig) from None


def load_plant_config(path: str | Path) -> PlantConfig:
    """Read and validate a plant YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlantConfigError(f"{path}: cannot read the plant config: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlantConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_plant_config(raw, origin=str(path))

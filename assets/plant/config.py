"""The plant configuration: its site, calendar, sources and lines, loaded from YAML and validated.

The configuration is a tree of pydantic models (the machines and lines in assets/plant/machines.py, the
value checks in assets/plant/fields.py, a source's options in assets/plant/source_formats.py); each key's
type, default and description is declared once, and the JSON Schema (docs/plant.schema.json, for
completion in an editor) and the reference page (docs/plant-reference.md) are generated from them
(assets/plant/docs.py). Every error names the file, the key path and the problem, because the person
reading it is a plant engineer editing YAML, not a Python developer (assets/plant/errors.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, WithJsonSchema, model_validator

from assets.plant.durations import Duration
from assets.plant.errors import PlantConfigError, config_error, problem
from assets.plant.fields import Clock, Name, PlantModel, Positive, TimeZoneName, choice, non_empty_list, set_derived
from assets.plant.machines import Line, Machine
from assets.plant.products import UNKNOWN_PRODUCT, Changeovers, Product
from assets.plant.source_formats import (
    SOURCE_FORMATS,
    SourceOptionsError,
    options_json_schema,
    validate_source_options,
)
from assets.plant.targets import Targets
from assets.plant.timestamps import earliest_default

__all__ = [
    "DEFAULT_PLANT_CONFIG",
    "WEEKDAYS",
    "Automation",
    "Break",
    "CalendarConfig",
    "OrderTargets",
    "PlantConfig",
    "PlantConfigError",
    "Shift",
    "Source",
    "load_plant_config",
    "parse_plant_config",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_PLANT_CONFIG = Path(__file__).resolve().parents[1] / "demo" / "plant.yaml"


class Shift(PlantModel):
    name: Name = Field(description="The shift's name, as the marts report it.")
    start: Clock = Field(description='Wall-clock start "HH:MM".')
    end: Clock = Field(description='Wall-clock end "HH:MM"; a shift ending when it starts lasts the whole day.')


class Break(PlantModel):
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


class CalendarConfig(PlantModel):
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
    shifts: Annotated[tuple[Shift, ...], non_empty_list("must be a non-empty list of {name, start, end}")] = Field(
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


@dataclass(frozen=True)
class OrderTargets:
    """What a work order of an orders export may name: the catalog's product ids, and each line's machines
    with OEE (in the YAML's order)."""

    products: frozenset[str]
    lines: dict[str, tuple[str, ...]]


class Source(PlantModel):
    name: Name = Field(description="The source's name.")
    format: Annotated[
        str,
        choice(SOURCE_FORMATS, "unknown format {value!r}; known: {choices}"),
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
    expected_every: Duration | None = Field(
        None,
        description='How often a new file is expected ("15m", "1h", "1d"): none landed for longer warns, for '
        "twice as long fails (the source's freshness check; null: not checked).",
    )

    model_config = ConfigDict(json_schema_extra=lambda schema: _source_schema(schema))
    # handed over by PlantConfig where the plant is read: the orders reader checks each order against it
    _order_targets: OrderTargets | None = PrivateAttr(None)

    @property
    def order_targets(self) -> OrderTargets | None:
        """The plant's products and lines, for a source of orders read from a plant YAML (else None)."""
        return self._order_targets


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


class PlantSection(PlantModel):
    site: Name = Field(description="The site's name, as the marts report it.")
    timezone: TimeZoneName = Field(description="The plant's IANA time zone; production days are local to it.")
    targets: Targets = Field(default_factory=Targets, description="The site's OEE targets.")


class Modelling(PlantModel):
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


class Automation(PlantModel):
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
    freshness_checks: bool = Field(
        True, description="freshness_checks_schedule: every 15 minutes, check the sources and the last day's marts."
    )
    publish_within: Duration = Field(
        dt.timedelta(hours=2),
        description="How long after a production day ends its marts must be published; later fails the marts' "
        "freshness check.",
        json_schema_extra={"default": "2h"},
    )


class PlantConfig(PlantModel):
    """The plant: its site and time zone, calendar, sources of exports, lines and machines."""

    plant: PlantSection = Field(description="The site.")
    calendar: CalendarConfig = Field(description="The production calendar: day start, working days, shifts, breaks.")
    sources: Annotated[
        tuple[Source, ...], non_empty_list("must be a non-empty list of {name, format, folder, timezone}")
    ] = Field(description="The historian and sensor exports and the folders they land in.")
    lines: Annotated[tuple[Line, ...], non_empty_list("must be a non-empty list of lines with machines")] = Field(
        description="The production lines and their machines."
    )
    modelling: Modelling = Field(default_factory=Modelling, description="How the modelling reads gaps and states.")
    automation: Automation = Field(
        default_factory=Automation, description="Which schedules and sensors run by themselves (all by default)."
    )
    products: tuple[Product, ...] = Field(
        (), description="The product catalog: id, name, ideal_cycle_time_s and per-machine overrides."
    )
    changeovers: Changeovers = Field(
        default_factory=Changeovers, description="Changeover targets and how a changeover's end is found."
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
                set_derived(source, "options", validate_source_options(source.format, source.options, "options"))
            except SourceOptionsError as exc:
                raise problem(exc.problem, "sources", i, "options", *([exc.key] if exc.key else [])) from None
            if source.options.get("earliest_timestamp") is None:
                # a point more than a year before the first production day is a broken clock, not history
                source.options["earliest_timestamp"] = earliest_default(self.calendar.first_day)
        seen_tags: dict[str, str] = {}
        line_names: list[str] = []
        for i, line in enumerate(self.lines):
            for j, machine in enumerate(line.machines):
                for tag in machine.tags:
                    if tag in seen_tags:
                        raise problem(f"tag {tag!r} is already used by {seen_tags[tag]}", "lines", i, "machines", j)
                    seen_tags[tag] = f"{line.name}/{machine.name}"
            if line.name in line_names:
                raise problem(f"line name {line.name!r} is used twice", "lines", i, "name")
            line_names.append(line.name)
        self._check_products()
        # an orders export names products and machines: its reader gets them with the source, which every
        # landing (local, remote, archive members) hands to it
        targets = OrderTargets(
            products=frozenset(p.id for p in self.products),
            lines={line.name: tuple(m.name for m in line.oee_machines) for line in self.lines},
        )
        for source in self.sources:
            source._order_targets = targets
        return self

    def _check_products(self) -> None:
        """Product ids once; each per-machine override names one OEE machine; changeovers name products."""
        ids: list[str] = []
        for i, product in enumerate(self.products):
            if product.id in ids:
                raise problem(f"product id {product.id!r} is listed twice", "products", i, "id")
            ids.append(product.id)
            for key in product.machines:
                if len(self._machines_named(key)) != 1:
                    names = sorted(
                        {m.name for m in self.oee_machines} | {f"{m.line}/{m.name}" for m in self.oee_machines}
                    )
                    found = self._machines_named(key)
                    why = (
                        "names machines on several lines: write LINE/MACHINE" if found else "names no machine with OEE"
                    )
                    raise problem(f"{key!r} {why} ({', '.join(names)})", "products", i, "machines", key)
        for i, target in enumerate(self.changeovers.targets):
            for key, value in (("from", target.from_), ("to", target.to)):
                if value not in ids:
                    raise problem(
                        f"{value!r} is not a product id of the catalog ({', '.join(ids) or 'products is empty'})",
                        "changeovers",
                        "targets",
                        i,
                        key,
                    )

    def _machines_named(self, key: str) -> list[Machine]:
        line, _, name = key.rpartition("/")
        return [m for m in self.oee_machines if m.name == name and (not line or m.line == line)]

    def ideal_cycle_time_s(self, machine: Machine, product_id: str | None) -> float:
        """The machine's seconds per unit of the product: the product's override for the machine, else the
        product's, else (no product, or one not in the catalog) the machine's own."""
        for product in self.products:
            if product.id == product_id:
                for key, seconds in product.machines.items():
                    if machine in self._machines_named(key):
                        return seconds
                return product.ideal_cycle_time_s
        assert machine.ideal_cycle_time_s is not None, f"{machine.line}/{machine.name} has no OEE"
        return machine.ideal_cycle_time_s

    def product_cycle_rows(self) -> list[tuple[str, str, str, str, float]]:
        """(line, machine, product, product_name, ideal_cycle_time_s) of every OEE machine and product, the
        machine's own cycle for the product 'unknown' included."""
        rows = []
        for m in self.oee_machines:
            assert m.ideal_cycle_time_s is not None
            rows.append((m.line, m.name, UNKNOWN_PRODUCT, "unknown product", m.ideal_cycle_time_s))
            rows.extend((m.line, m.name, p.id, p.name or p.id, self.ideal_cycle_time_s(m, p.id)) for p in self.products)
        return rows

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

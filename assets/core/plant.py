"""The plant configuration: hierarchy, tags, calendar and sources, loaded from YAML and validated.

Every error names the file, the key path and the problem, because the person reading it is a plant
engineer editing YAML, not a Python developer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

STATE_CATEGORIES = ("running", "planned_stop", "unplanned_stop", "not_scheduled")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SOURCE_FORMATS = (
    "aveva_historian_csv",
    "pi_csv",
    "pi_webapi_json",
    "ignition_wide_csv",
    "ignition_tall_csv",
    "proficy_csv",
    "sensor_jsonl",
    "sensor_csv",
    "sensor_parquet",
)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_TAG_RE = re.compile(r"^[^\x00-\x1f'\"]{1,256}$")

DEFAULT_PLANT_CONFIG = Path(__file__).resolve().parents[1] / "demo" / "plant.yaml"


class PlantConfigError(ValueError):
    """The plant YAML is missing a key or has a value that cannot be right."""


@dataclass(frozen=True)
class StateMapping:
    category: str
    reason: str | None = None


@dataclass(frozen=True)
class Shift:
    name: str
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class Break:
    name: str
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class CalendarConfig:
    day_start: dt.time
    working_days: frozenset[int]  # 0 = Monday, as datetime.weekday()
    shifts: tuple[Shift, ...]
    breaks: tuple[Break, ...]
    first_day: dt.date


@dataclass(frozen=True)
class Source:
    name: str
    format: str
    folder: str
    timezone: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Machine:
    """A machine of a line. A machine with a state tag, its state map, two counters and an ideal cycle
    time has OEE; one with none of them (an energy meter, a compressor, a condition-monitoring asset) has
    energy and sensor figures only (`has_oee` is false)."""

    name: str
    line: str
    area: str
    ideal_cycle_time_s: float | None = None
    state_tag: str | None = None
    states: dict[str, StateMapping] = field(default_factory=dict)
    total_count_tag: str | None = None
    good_count_tag: str | None = None
    reject_count_tag: str | None = None
    counter_rollover: float | None = None
    # a counter that steps back by at most this many counts is jitter, not a reset: nothing counts
    # until it passes its previous high again
    counter_backstep_tolerance: int = 10
    energy_kwh_tag: str | None = None
    energy_rollover: float | None = None
    power_kw_tag: str | None = None
    energy_interval_kwh_tag: str | None = None
    energy_interval_s: float | None = None
    energy_interval_label: str = "end"
    # how long a power reading may stand for the energy until the next one; None: modelling's, else
    # three typical reading intervals of the tag (see sql/silver/energy_increments.sql)
    energy_max_gap_s: float | None = None
    microstop_threshold_s: float = 120.0

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


@dataclass(frozen=True)
class Line:
    name: str
    area: str
    machines: tuple[Machine, ...]
    # the machine whose good units are the line's output (the line's "good units", its kWh per unit);
    # None on a line without a machine that has OEE
    output_machine: str | None

    @property
    def oee_machines(self) -> tuple[Machine, ...]:
        """The line's machines that have OEE (a state tag and counters), in the YAML's order."""
        return tuple(m for m in self.machines if m.has_oee)


@dataclass(frozen=True)
class PlantConfig:
    site: str
    timezone: str
    calendar: CalendarConfig
    sources: tuple[Source, ...]
    lines: tuple[Line, ...]
    state_lookback_days: int = 7
    sensor_max_gap_s: float = 900.0
    energy_max_gap_s: float | None = None  # the plant's default for machines that set none

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


class _Reader:
    """Walks the YAML tree and reports problems with the key path that holds them."""

    def __init__(self, origin: str):
        self.origin = origin

    def fail(self, path: str, problem: str) -> PlantConfigError:
        return PlantConfigError(f"{self.origin}: {path}: {problem}")

    def mapping(self, node: Any, path: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(path, f"must be a mapping, got {type(node).__name__}")
        return node

    def require(self, node: dict[str, Any], key: str, path: str) -> Any:
        if key not in node or node[key] is None:
            raise self.fail(f"{path}.{key}" if path else key, "is required")
        return node[key]

    def unknown_keys(self, node: dict[str, Any], allowed: set[str], path: str) -> None:
        extra = sorted(set(node) - allowed)
        if extra:
            raise self.fail(f"{path}.{extra[0]}" if path else extra[0], "is not a known key")

    def name(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not _NAME_RE.match(value):
            raise self.fail(path, f"must be a name of letters, digits, '_', '.', '-', got {value!r}")
        return value

    def tag(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not _TAG_RE.match(value):
            raise self.fail(path, f"must be a tag name without quotes or control characters, got {value!r}")
        return value

    def clock(self, value: Any, path: str) -> dt.time:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 06:00 as the sexagesimal number 360.
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
            raise self.fail(path, f'must be a wall-clock time "HH:MM", got {value!r}')
        hours, minutes = int(value[:2]), int(value[3:])
        if hours > 23 or minutes > 59:
            raise self.fail(path, f"is not a time of day: {value!r}")
        return dt.time(hours, minutes)

    def timezone(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"must be an IANA time zone name such as Europe/Berlin, got {value!r}")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(path, f"is not a known IANA time zone: {value!r}") from None
        return value

    def positive(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise self.fail(path, f"must be a positive number, got {value!r}")
        return float(value)


def parse_plant_config(raw: Any, origin: str = "plant config") -> PlantConfig:
    """Validate a parsed YAML document and build the typed plant configuration."""
    r = _Reader(origin)
    root = r.mapping(raw, "(top level)")
    r.unknown_keys(root, {"plant", "calendar", "sources", "lines", "modelling"}, "")

    plant = r.mapping(r.require(root, "plant", ""), "plant")
    r.unknown_keys(plant, {"site", "timezone"}, "plant")
    site = r.name(r.require(plant, "site", "plant"), "plant.site")
    timezone = r.timezone(r.require(plant, "timezone", "plant"), "plant.timezone")

    calendar = _parse_calendar(r, r.mapping(r.require(root, "calendar", ""), "calendar"))
    sources = _parse_sources(r, r.require(root, "sources", ""), timezone, calendar.first_day)
    lines = _parse_lines(r, r.require(root, "lines", ""))

    modelling = r.mapping(root.get("modelling") or {}, "modelling")
    r.unknown_keys(modelling, {"state_lookback_days", "sensor_max_gap_s", "energy_max_gap_s"}, "modelling")
    lookback = modelling.get("state_lookback_days", 7)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or not 1 <= lookback <= 366:
        raise r.fail("modelling.state_lookback_days", f"must be a whole number of days 1..366, got {lookback!r}")

    max_gap = modelling.get("sensor_max_gap_s", 900)
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, float)) or not max_gap > 0:
        raise r.fail("modelling.sensor_max_gap_s", f"must be a positive number of seconds, got {max_gap!r}")
    energy_max_gap = modelling.get("energy_max_gap_s")
    if energy_max_gap is not None:
        energy_max_gap = r.positive(energy_max_gap, "modelling.energy_max_gap_s")

    return PlantConfig(
        site=site,
        timezone=timezone,
        calendar=calendar,
        sources=sources,
        lines=lines,
        state_lookback_days=lookback,
        sensor_max_gap_s=float(max_gap),
        energy_max_gap_s=energy_max_gap,
    )


def _parse_calendar(r: _Reader, node: dict[str, Any]) -> CalendarConfig:
    r.unknown_keys(node, {"day_start", "working_days", "shifts", "breaks", "first_day"}, "calendar")
    day_start = r.clock(node.get("day_start", "00:00"), "calendar.day_start")

    days_raw = node.get("working_days", list(WEEKDAYS[:5]))
    if not isinstance(days_raw, list) or not days_raw:
        raise r.fail("calendar.working_days", "must be a non-empty list such as [mon, tue, wed, thu, fri]")
    working: set[int] = set()
    for i, day in enumerate(days_raw):
        key = str(day).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise r.fail(f"calendar.working_days[{i}]", f"is not a weekday (mon..sun): {day!r}")
        working.add(WEEKDAYS.index(key))

    shifts_raw = r.require(node, "shifts", "calendar")
    if not isinstance(shifts_raw, list) or not shifts_raw:
        raise r.fail("calendar.shifts", "must be a non-empty list of {name, start, end}")
    shifts: list[Shift] = []
    for i, item in enumerate(shifts_raw):
        path = f"calendar.shifts[{i}]"
        item = r.mapping(item, path)
        r.unknown_keys(item, {"name", "start", "end"}, path)
        shift = Shift(
            name=r.name(r.require(item, "name", path), f"{path}.name"),
            start=r.clock(r.require(item, "start", path), f"{path}.start"),
            end=r.clock(r.require(item, "end", path), f"{path}.end"),
        )
        if any(s.name == shift.name for s in shifts):
            raise r.fail(f"{path}.name", f"shift name {shift.name!r} is used twice")
        shifts.append(shift)
    _check_shifts_do_not_overlap(r, shifts)

    breaks: list[Break] = []
    for i, item in enumerate(node.get("breaks") or []):
        path = f"calendar.breaks[{i}]"
        item = r.mapping(item, path)
        r.unknown_keys(item, {"name", "start", "end"}, path)
        brk = Break(
            name=r.name(r.require(item, "name", path), f"{path}.name"),
            start=r.clock(r.require(item, "start", path), f"{path}.start"),
            end=r.clock(r.require(item, "end", path), f"{path}.end"),
        )
        if brk.start == brk.end:
            raise r.fail(path, "a break cannot start and end at the same time")
        breaks.append(brk)

    first_raw = node.get("first_day", "2025-01-01")
    try:
        first_day = first_raw if isinstance(first_raw, dt.date) else dt.date.fromisoformat(str(first_raw))
    except ValueError:
        raise r.fail("calendar.first_day", f"must be a date YYYY-MM-DD, got {first_raw!r}") from None

    return CalendarConfig(
        day_start=day_start,
        working_days=frozenset(working),
        shifts=tuple(shifts),
        breaks=tuple(breaks),
        first_day=first_day,
    )


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _check_shifts_do_not_overlap(r: _Reader, shifts: list[Shift]) -> None:
    # Compare the shifts as arcs on a 24 h clock; overlapping shifts would count a second twice.
    covered: dict[int, str] = {}
    for shift in shifts:
        start, end = _minutes(shift.start), _minutes(shift.end)
        # a shift that ends when it starts is one whole wall-clock day (23 or 25 h on a clock change)
        length = (end - start) % 1440 or 1440
        for k in range(length):
            minute = (start + k) % 1440
            if minute in covered:
                raise r.fail("calendar.shifts", f"shifts {covered[minute]!r} and {shift.name!r} overlap")
            covered[minute] = shift.name


def _parse_sources(r: _Reader, node: Any, plant_tz: str, first_day: dt.date) -> tuple[Source, ...]:
    if not isinstance(node, list) or not node:
        raise r.fail("sources", "must be a non-empty list of {name, format, folder, timezone}")
    sources: list[Source] = []
    for i, item in enumerate(node):
        path = f"sources[{i}]"
        item = r.mapping(item, path)
        r.unknown_keys(item, {"name", "format", "folder", "timezone", "options"}, path)
        fmt = r.require(item, "format", path)
        if fmt not in SOURCE_FORMATS:
            raise r.fail(f"{path}.format", f"unknown format {fmt!r}; known: {', '.join(SOURCE_FORMATS)}")
        folder = r.require(item, "folder", path)
        if not isinstance(folder, str) or folder.startswith("/") or ".." in Path(folder).parts or not folder:
            raise r.fail(f"{path}.folder", f"must be a relative folder inside LANDING_ROOT, got {folder!r}")
        source = Source(
            name=r.name(r.require(item, "name", path), f"{path}.name"),
            format=fmt,
            folder=folder,
            timezone=r.timezone(item.get("timezone", plant_tz), f"{path}.timezone"),
            options=_source_options(r, fmt, item.get("options"), f"{path}.options"),
        )
        if source.options.get("earliest_timestamp") is None:
            # a point more than a year before the first production day is a broken clock, not history
            from .timestamps import earliest_default

            source.options["earliest_timestamp"] = earliest_default(first_day)
        if any(s.name == source.name for s in sources):
            raise r.fail(f"{path}.name", f"source name {source.name!r} is used twice")
        sources.append(source)
    return tuple(sources)


def _source_options(r: _Reader, fmt: str, node: Any, path: str) -> dict[str, Any]:
    """A source's options checked against its format, with the format's defaults filled in."""
    from ..readers.options import validate_source_options  # the readers own their options

    options = dict(r.mapping(node or {}, path))
    try:
        return validate_source_options(fmt, options, path)
    except PlantConfigError as exc:
        raise PlantConfigError(f"{r.origin}: {exc}") from None


def _parse_lines(r: _Reader, node: Any) -> tuple[Line, ...]:
    if not isinstance(node, list) or not node:
        raise r.fail("lines", "must be a non-empty list of lines with machines")
    lines: list[Line] = []
    seen_tags: dict[str, str] = {}
    seen_machines: set[str] = set()
    for i, item in enumerate(node):
        path = f"lines[{i}]"
        item = r.mapping(item, path)
        r.unknown_keys(item, {"name", "area", "machines", "output_machine"}, path)
        line_name = r.name(r.require(item, "name", path), f"{path}.name")
        area = r.name(r.require(item, "area", path), f"{path}.area")
        machines_raw = r.require(item, "machines", path)
        if not isinstance(machines_raw, list) or not machines_raw:
            raise r.fail(f"{path}.machines", "must be a non-empty list")
        machines = []
        for j, m in enumerate(machines_raw):
            machine = _parse_machine(r, r.mapping(m, f"{path}.machines[{j}]"), f"{path}.machines[{j}]", line_name, area)
            if (line_name, machine.name) in seen_machines:
                raise r.fail(f"{path}.machines[{j}].name", f"machine {machine.name!r} is listed twice on {line_name}")
            seen_machines.add((line_name, machine.name))
            for tag in (machine.state_tag, *machine.counter_tags.values(), *machine.energy_tags.values()):
                if tag is None:
                    continue
                if tag in seen_tags:
                    raise r.fail(f"{path}.machines[{j}]", f"tag {tag!r} is already used by {seen_tags[tag]}")
                seen_tags[tag] = f"{line_name}/{machine.name}"
            machines.append(machine)
        if any(line.name == line_name for line in lines):
            raise r.fail(f"{path}.name", f"line name {line_name!r} is used twice")
        output_machine = _parse_output_machine(r, item, path, machines)
        lines.append(Line(name=line_name, area=area, machines=tuple(machines), output_machine=output_machine))
    return tuple(lines)


def _parse_output_machine(r: _Reader, item: dict[str, Any], path: str, machines: list[Machine]) -> str | None:
    """The line's output machine: `output_machine` if set (it must name a machine of the line that has OEE),
    else the line's last machine with OEE; None on a line of monitoring assets only, which has no output."""
    oee_names = [m.name for m in machines if m.has_oee]
    if item.get("output_machine") is None:
        return oee_names[-1] if oee_names else None
    name = item["output_machine"]
    names = [m.name for m in machines]
    if name not in names:
        raise r.fail(f"{path}.output_machine", f"must name a machine of the line ({', '.join(names)}), got {name!r}")
    if name not in oee_names:
        raise r.fail(
            f"{path}.output_machine",
            f"{name!r} has no state_tag and counters, so it counts no units: name a machine with OEE"
            + (f" ({', '.join(oee_names)})" if oee_names else "; this line has none, so leave output_machine out"),
        )
    return name


def _parse_machine(r: _Reader, node: dict[str, Any], path: str, line: str, area: str) -> Machine:
    r.unknown_keys(
        node,
        {
            "name",
            "ideal_cycle_time_s",
            "state_tag",
            "states",
            "total_count_tag",
            "good_count_tag",
            "reject_count_tag",
            "counter_rollover",
            "counter_backstep_tolerance",
            "energy_kwh_tag",
            "energy_rollover",
            "power_kw_tag",
            "energy_interval_kwh_tag",
            "energy_interval_s",
            "energy_interval_label",
            "energy_max_gap_s",
            "microstop_threshold_s",
        },
        path,
    )
    counters = {k: node.get(k) for k in ("total_count_tag", "good_count_tag", "reject_count_tag")}
    for key, tag in counters.items():
        if tag is not None:
            r.tag(tag, f"{path}.{key}")
    has_oee = _oee_or_monitoring(r, node, path, counters)
    states = _parse_states(r, node, path) if has_oee else {}

    def optional_positive(key: str) -> float | None:
        return None if node.get(key) is None else r.positive(node[key], f"{path}.{key}")

    tolerance = node.get("counter_backstep_tolerance", 10)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise r.fail(f"{path}.counter_backstep_tolerance", f"must be a whole number of counts >= 0, got {tolerance!r}")

    energy = {}
    for key in ("energy_kwh_tag", "power_kw_tag", "energy_interval_kwh_tag"):
        energy[key] = None if node.get(key) is None else r.tag(node[key], f"{path}.{key}")
    if sum(v is not None for v in energy.values()) > 1:
        raise r.fail(path, "give one of energy_kwh_tag, power_kw_tag, energy_interval_kwh_tag, not several")
    interval_s = optional_positive("energy_interval_s")
    if energy["energy_interval_kwh_tag"] and interval_s is None:
        raise r.fail(f"{path}.energy_interval_s", "is required with energy_interval_kwh_tag (seconds per reading)")
    label = node.get("energy_interval_label", "end")
    if label not in ("start", "end"):
        raise r.fail(f"{path}.energy_interval_label", f"must be start or end, got {label!r}")
    return Machine(
        name=r.name(r.require(node, "name", path), f"{path}.name"),
        line=line,
        area=area,
        ideal_cycle_time_s=(
            r.positive(r.require(node, "ideal_cycle_time_s", path), f"{path}.ideal_cycle_time_s") if has_oee else None
        ),
        state_tag=r.tag(r.require(node, "state_tag", path), f"{path}.state_tag") if has_oee else None,
        states=states,
        total_count_tag=counters["total_count_tag"],
        good_count_tag=counters["good_count_tag"],
        reject_count_tag=counters["reject_count_tag"],
        counter_rollover=optional_positive("counter_rollover"),
        counter_backstep_tolerance=tolerance,
        energy_kwh_tag=energy["energy_kwh_tag"],
        energy_rollover=optional_positive("energy_rollover"),
        power_kw_tag=energy["power_kw_tag"],
        energy_interval_kwh_tag=energy["energy_interval_kwh_tag"],
        energy_interval_s=interval_s,
        energy_interval_label=label,
        energy_max_gap_s=optional_positive("energy_max_gap_s"),
        microstop_threshold_s=optional_positive("microstop_threshold_s") or 120.0,
    )


# The keys only a machine with OEE has; a monitoring asset (no state tag, no counters) refuses them.
_OEE_ONLY_KEYS = (
    "ideal_cycle_time_s",
    "states",
    "counter_rollover",
    "counter_backstep_tolerance",
    "microstop_threshold_s",
)


def _oee_or_monitoring(r: _Reader, node: dict[str, Any], path: str, counters: dict[str, Any]) -> bool:
    """Whether the machine has OEE (a state tag and two counters) or is a monitoring asset (neither): an
    energy meter, or a condition-monitoring asset with no tag of its own (its sensors are the tags no
    machine uses).

    A machine with part of what OEE needs is refused, naming what is missing: a state tag without
    counters, or counters without a state tag, would give OEE rows that are silently wrong."""
    has_state = node.get("state_tag") is not None
    given = [key for key, tag in counters.items() if tag is not None]
    if has_state and len(given) < 2:
        raise r.fail(
            path,
            "needs two of total_count_tag, good_count_tag, reject_count_tag"
            + (f" (it has only {given[0]})" if given else "")
            + ": a machine with state_tag has OEE; a machine without state_tag and counters is a monitoring asset",
        )
    if not has_state and given:
        raise r.fail(
            f"{path}.state_tag",
            f"is required with {', '.join(given)}: a machine with counters has OEE and needs state_tag, states, "
            "two counters and ideal_cycle_time_s",
        )
    if has_state:
        return True
    for key in _OEE_ONLY_KEYS:
        if node.get(key) is not None:
            raise r.fail(
                f"{path}.{key}",
                "a machine without state_tag has no OEE: remove "
                f"{key} or add state_tag, states and two of total_count_tag, good_count_tag, reject_count_tag",
            )
    return False


def _parse_states(r: _Reader, node: dict[str, Any], path: str) -> dict[str, StateMapping]:
    states_raw = r.mapping(r.require(node, "states", path), f"{path}.states")
    if not states_raw:
        raise r.fail(f"{path}.states", "must map at least one state code to a category")
    states: dict[str, StateMapping] = {}
    for code, value in states_raw.items():
        spath = f"{path}.states.{code}"
        if isinstance(value, str):
            value = {"category": value}
        value = r.mapping(value, spath)
        r.unknown_keys(value, {"category", "reason"}, spath)
        category = r.require(value, "category", spath)
        if category not in STATE_CATEGORIES:
            raise r.fail(f"{spath}.category", f"must be one of {', '.join(STATE_CATEGORIES)}, got {category!r}")
        reason = value.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise r.fail(f"{spath}.reason", f"must be text, got {reason!r}")
        states[state_key(code)] = StateMapping(category=category, reason=reason)
    return states


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

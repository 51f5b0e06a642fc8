"""Which plant configuration built the production days, and what a changed one does to them.

Each build records the plant YAML it used in the `plant_config_history` Delta table (one row per distinct
configuration, by the hash of its canonical form). Before a run, the configuration of the latest build is
compared with the current one: what changed is said in words, with the days it affects.

A change of the time zone or `day_start` moves every production day's window: days built before it and
days built after it would overlap or leave hours in no day at all. Such a change is refused until every
day is rebuilt with it (`run --rebuild-all`). Any other change applies to the days rebuilt from then on.
Whether a day was built with another calendar is read from the day's own window in
`silver__plant_calendar`, so it is known even for days built before the history was kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import yaml

from assets.plant.calendar import production_day_window, production_days_between
from assets.plant.config import PlantConfig, PlantConfigError, parse_plant_config
from assets.plant.machines import Machine
from assets.silver.tag_aliases import load_aliases, tags_by_role
from assets.storage import delta, delta_read
from assets.storage.schemas import DAY_BUILDS, PLANT_CONFIG_HISTORY, SILVER_DAY_TABLES, SILVER_PLANT_CALENDAR

# The run tag of a build that rebuilds every day with a changed calendar: its days may sit beside days
# not yet rebuilt, and only for such a run is that expected.
REBUILD_ALL_TAG = "iiot/rebuild_all"
_ARROW = "\u2192"


# --- pure: hash and differences --------------------------------------------------------------------------


def config_sha256(yaml_text: str) -> str:
    """The hash of a plant YAML's content: comments, layout, key order and anchors do not change it."""
    canonical = json.dumps(yaml.safe_load(yaml_text), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _clock(t: dt.time) -> str:
    return t.strftime("%H:%M")


def _span(item) -> str:
    return f"{_clock(item.start)}-{_clock(item.end)}"


_MACHINE_SAID = {"name", "line", "area", "ideal_cycle_time_s", "state_tag", "total_count_tag", "good_count_tag"}
_MACHINE_SAID |= {"reject_count_tag", "energy_kwh_tag", "power_kw_tag", "energy_interval_kwh_tag"}


def _named_changes(kind: str, old: Sequence, new: Sequence) -> list[str]:
    """Shifts or breaks added, removed or moved, by name."""
    before, after = {s.name: s for s in old}, {s.name: s for s in new}
    lines = []
    for name in before.keys() - after.keys():
        lines.append((name, f"{kind} removed: {name} {_span(before[name])}"))
    for name in after.keys() - before.keys():
        lines.append((name, f"{kind} added: {name} {_span(after[name])}"))
    for name in before.keys() & after.keys():
        if _span(before[name]) != _span(after[name]):
            lines.append((name, f"{kind} {name}: {_span(before[name])} {_ARROW} {_span(after[name])}"))
    return [line for _, line in sorted(lines)]


def diff_configs(old: PlantConfig, new: PlantConfig) -> list[str]:
    """What changed from `old` to `new`, one line each: the calendar first, then the machines."""
    lines = []
    if old.timezone != new.timezone:
        lines.append(f"time zone: {old.timezone} {_ARROW} {new.timezone}")
    if old.calendar.day_start != new.calendar.day_start:
        lines.append(f"day_start: {_clock(old.calendar.day_start)} {_ARROW} {_clock(new.calendar.day_start)}")
    if old.calendar.working_days != new.calendar.working_days:
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

        def days(c):
            return ", ".join(names[d] for d in sorted(c.calendar.working_days))

        lines.append(f"working days: {days(old)} {_ARROW} {days(new)}")
    lines += _named_changes("shift", old.calendar.shifts, new.calendar.shifts)
    lines += _named_changes("break", old.calendar.breaks, new.calendar.breaks)

    before = {(m.line, m.name): m for m in old.machines}
    after = {(m.line, m.name): m for m in new.machines}
    for key in sorted(before.keys() - after.keys()):
        lines.append(f"machine removed: {key[0]}/{key[1]}")
    for key in sorted(after.keys() - before.keys()):
        lines.append(f"machine added: {key[0]}/{key[1]}")
    for key in sorted(before.keys() & after.keys()):
        lines += _machine_changes(f"{key[0]}/{key[1]}", before[key], after[key])

    lines += _source_changes(old, new)
    if (old.site, old.calendar.first_day) != (new.site, new.calendar.first_day):
        lines.append("other settings changed: " + ", ".join(_changed_plant_settings(old, new)))
    modelling = ("state_lookback_days", "sensor_max_gap_s", "energy_max_gap_s")
    changed = [f"modelling.{k}" for k in modelling if getattr(old, k) != getattr(new, k)]
    if changed:
        lines.append("other settings changed: " + ", ".join(changed))
    return lines


def _machine_changes(where: str, old: Machine, new: Machine) -> list[str]:
    lines = []
    before, after = tags_by_role(old), tags_by_role(new)
    for role in sorted(before.keys() | after.keys()):
        if role not in after:
            lines.append(f"tag removed on {where} ({role}): {before[role]}")
        elif role not in before:
            lines.append(f"tag added on {where} ({role}): {after[role]}")
        elif before[role] != after[role]:
            lines.append(f"tag renamed on {where} ({role}): {before[role]} {_ARROW} {after[role]}")
    if old.ideal_cycle_time_s != new.ideal_cycle_time_s:
        lines.append(f"ideal_cycle_time_s on {where}: {old.ideal_cycle_time_s:g} {_ARROW} {new.ideal_cycle_time_s:g}")
    other = [
        name for name in Machine.model_fields if name not in _MACHINE_SAID and getattr(old, name) != getattr(new, name)
    ]
    if other:
        lines.append(f"other settings changed on {where}: {', '.join(other)}")
    return lines


def _source_changes(old: PlantConfig, new: PlantConfig) -> list[str]:
    """A source's time zone (it reads the times that carry no offset) in words; other source changes named."""
    before, after = {s.name: s for s in old.sources}, {s.name: s for s in new.sources}
    lines = [f"source removed: {name}" for name in sorted(before.keys() - after.keys())]
    lines += [f"source added: {name}" for name in sorted(after.keys() - before.keys())]
    for name in sorted(before.keys() & after.keys()):
        a, b = before[name], after[name]
        if a.timezone != b.timezone:
            lines.append(f"source {name} time zone: {a.timezone} {_ARROW} {b.timezone}")
        other = [f for f in ("format", "folder", "options") if getattr(a, f) != getattr(b, f)]
        if other:
            lines.append(f"other settings changed on source {name}: {', '.join(other)}")
    return lines


def _changed_plant_settings(old: PlantConfig, new: PlantConfig) -> list[str]:
    names = []
    if old.site != new.site:
        names.append("plant.site")
    if old.calendar.first_day != new.calendar.first_day:
        names.append("calendar.first_day")
    return names


def calendar_changes(lines: Sequence[str]) -> list[str]:
    """The lines of a difference that move the production days' windows (time zone, day_start)."""
    return [line for line in lines if line.startswith(("time zone:", "day_start:"))]


def days_text(days: Sequence[dt.date]) -> str:
    """Days as '2026-03-02' or '3 days, 2026-03-02 to 2026-03-04'."""
    days = sorted(days)
    if len(days) == 1:
        return f"1 day, {days[0]}"
    return f"{len(days)} days, {days[0]} to {days[-1]}"


def days_covering(config: PlantConfig, windows: Sequence[tuple[dt.date, dt.datetime, dt.datetime]]) -> list[dt.date]:
    """The production days of `config` that share time with the span of the built days' windows."""
    if not windows:
        return []
    start = min(w[1] for w in windows)
    end = max(w[2] for w in windows) - dt.timedelta(microseconds=1)  # windows are half-open
    return production_days_between(config, start, end)


# --- the check before a run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigCheck:
    """The current configuration against the days built and the configuration of the latest build."""

    # what changed since the latest build ([] if nothing, or no build recorded), and how the earlier names
    # of renamed tags are read
    changes: list[str]
    built: list[tuple[dt.date, dt.datetime, dt.datetime]]  # the days silver holds, with their windows
    other_calendar: list[dt.date]  # days whose window is not the one the current calendar gives them

    @property
    def built_days(self) -> list[dt.date]:
        return [w[0] for w in self.built]

    def refusal(self, rebuild_all: bool) -> str | None:
        """Why the run cannot go on (days built with another calendar, not all rebuilt), or None."""
        if rebuild_all or not self.other_calendar:
            return None
        what = "; ".join(calendar_changes(self.changes)) or "the time zone or day_start changed"
        return (
            f"the production days' calendar changed ({what}): {days_text(self.other_calendar)} were built with "
            "the earlier one, and days built now would overlap them or leave hours in no production day; "
            "run `iiot-lakehouse run --rebuild-all` to rebuild every day with the new one"
        )

    def report(self, rebuild_all: bool) -> list[str]:
        """The lines the run prints about the change, before it lands anything."""
        if not self.changes and not self.other_calendar:
            return []
        lines = ["plant config changed since the latest build:"]
        lines += [f"  {line}" for line in self.changes or ["the time zone or day_start (no earlier config recorded)"]]
        if not self.built:
            return lines
        if rebuild_all:
            lines.append(f"  affects every production day built ({days_text(self.built_days)}): all rebuilt now")
        elif not self.other_calendar:
            lines.append(
                f"  affects the production days built ({days_text(self.built_days)}): they keep the earlier "
                "config until rebuilt; days rebuilt now take the new one (`run --rebuild-all`, or "
                "`--start/--end`, applies it to them)"
            )
        return lines

    def rebuild_days(self, config: PlantConfig) -> list[dt.date]:
        """The days `--rebuild-all` builds: every day built, and the days of the current calendar that
        cover the same time, so that no hour is left in no day."""
        return sorted(set(self.built_days) | set(days_covering(config, self.built)))


def check_config(root: str, config: PlantConfig, config_path: str, storage_options=None) -> ConfigCheck:
    """Compare the current plant configuration with the days built and the latest recorded one."""
    built = built_windows(root, storage_options)
    other = [day for day, start, end in built if (start, end) != production_day_window(config, day)]
    changes: list[str] = []
    latest = latest_recorded(root, storage_options)
    text = Path(config_path).read_text(encoding="utf-8")
    if latest is not None and latest["config_sha256"] != config_sha256(text):
        changes = describe_change(latest["plant_yaml"], config, origin=latest["config_path"])
        # a renamed tag's earlier points are read as the new tag's history: said after the rename
        changes = load_aliases(root, config, storage_options).said(changes)
    return ConfigCheck(changes=changes, built=built, other_calendar=other)


def describe_change(old_yaml: str, new: PlantConfig, origin: str = "earlier plant config") -> list[str]:
    """The difference from a recorded YAML to the current configuration; an earlier YAML that no longer
    loads is compared by its time zone and day_start only."""
    try:
        old = parse_plant_config(yaml.safe_load(old_yaml), origin=origin)
    except (PlantConfigError, yaml.YAMLError, TypeError, ValueError):
        raw = yaml.safe_load(old_yaml) or {}
        lines = []
        timezone = (raw.get("plant") or {}).get("timezone")
        if timezone != new.timezone:
            lines.append(f"time zone: {timezone} {_ARROW} {new.timezone}")
        lines.append("other settings changed (the earlier config does not load any more)")
        return lines
    return diff_configs(old, new) or ["layout only (the same settings)"]


# --- Delta I/O -------------------------------------------------------------------------------------------


def built_windows(root: str, storage_options=None) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """Every production day silver holds, with the UTC window it was built with."""
    rows = delta_read.query_table(root, SILVER_PLANT_CALENDAR, _DAY_WINDOWS, storage_options=storage_options)
    return [(r["day"], r["start"].astimezone(dt.UTC), r["end"].astimezone(dt.UTC)) for r in rows]


_DAY_WINDOWS = f"select day, start, \"end\" from {SILVER_PLANT_CALENDAR.name} where kind = 'day' order by day"


def neighbour_conflict(root: str, config: PlantConfig, day: dt.date, storage_options=None) -> str | None:
    """Why building `day` with the current calendar would overlap its neighbours or leave a gap beside
    them (they were built with another time zone or day_start), or None."""
    one = dt.timedelta(days=1)
    neighbours = delta_read.date_partitions("day", [day - one, day + one])
    rows = delta_read.query_table(root, SILVER_PLANT_CALENDAR, _DAY_WINDOWS, None, neighbours, storage_options)
    other = [r["day"] for r in rows if (r["start"], r["end"]) != production_day_window(config, r["day"])]
    if not other:
        return None
    return (
        f"{day}: production day {', '.join(map(str, other))} was built with another time zone or day_start, so "
        f"{day} built with the plant config's calendar would overlap it or leave a gap beside it; run "
        "`iiot-lakehouse run --rebuild-all` to rebuild every day with the new calendar"
    )


def latest_recorded(root: str, storage_options=None) -> dict | None:
    """The history row of the latest build's configuration, or None if no build was recorded."""
    rows = delta_read.query_table(
        root,
        PLANT_CONFIG_HISTORY,
        f"select * from {PLANT_CONFIG_HISTORY.name} order by last_used_at desc, first_used_at desc limit 1",
        storage_options=storage_options,
    )
    return rows[0] if rows else None


def record_config(
    root: str,
    config_path: str,
    day: dt.date,
    run_id: str | None,
    storage_options=None,
    now: dt.datetime | None = None,
) -> bool:
    """Record that a build of `day` used the plant YAML at `config_path`. Writes only when that YAML is not
    already the latest build's: a new configuration is appended, an earlier one taken up again gets its
    last_used_at. Returns whether anything was written. Callers serialise it (the calendar's pool)."""
    text = Path(config_path).read_text(encoding="utf-8")
    sha = config_sha256(text)
    latest = latest_recorded(root, storage_options)
    if latest is not None and latest["config_sha256"] == sha:
        return False
    now = now or dt.datetime.now(dt.UTC)
    uri = delta.table_uri(root, PLANT_CONFIG_HISTORY.name)
    earlier = delta_read.query_table(
        root,
        PLANT_CONFIG_HISTORY,
        f"select * from {PLANT_CONFIG_HISTORY.name} where config_sha256 = ?",
        [sha],
        storage_options=storage_options,
    )
    if earlier:
        row = earlier[0] | {"last_used_at": now}
        data = PLANT_CONFIG_HISTORY.conform(pa.Table.from_pylist([row]))
        delta.replace_where(
            uri, PLANT_CONFIG_HISTORY, f"config_sha256 = {delta.hex_literal(sha)}", data, storage_options
        )
        return True
    row = {
        "config_sha256": sha,
        "plant_yaml": text,
        "config_path": str(config_path),
        "first_used_at": now,
        "last_used_at": now,
        "first_day": day,
        "run_id": run_id,
    }
    data = PLANT_CONFIG_HISTORY.conform(pa.Table.from_pylist([row], schema=PLANT_CONFIG_HISTORY.arrow_schema))
    delta.append(uri, PLANT_CONFIG_HISTORY, data, storage_options)
    return True


def remove_days(root: str, days: Sequence[dt.date], storage_options=None) -> None:
    """Delete production days from every silver table (days of an earlier calendar that the current one
    cannot build yet: left in place, they would overlap the days built beside them)."""
    if not days:
        return
    predicate = f"day IN ({', '.join(delta.date_literal(d) for d in sorted(set(days)))})"
    # the day watermark too: a day with no silver is not a built day
    for spec in (*SILVER_DAY_TABLES, DAY_BUILDS):
        table = delta.open_table(delta.table_uri(root, spec.name), storage_options)
        if table is not None:
            table.delete(predicate, commit_properties=delta.commit_properties())

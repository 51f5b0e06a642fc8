"""A machine role's earlier tag names, read as the history of its current tag.

When the historian renames a tag and the plant YAML follows it, bronze keeps the earlier points under the
earlier name. A production day built before the rename and rebuilt with the new YAML would find no points
for the new name (0 % availability, a counter that seems to start from nothing). So, for each machine
(line and name) and role (state, total_count, ..., energy_meter, ...), the tags that role had in the
configurations of `plant_config_history` are aliases of its current tag: the silver models read them too,
under the current name (see `bronze_reader.register_points`).

An earlier name that the current configuration uses for another machine or role is not an alias (its
points are that tag's now), nor is one that was the earlier name of two current tags (its points cannot
be told apart): both are skipped, and `run` says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml

from assets.plant.config import PlantConfig, PlantConfigError, parse_plant_config
from assets.plant.machines import Machine
from assets.storage import delta_read
from assets.storage.schemas import PLANT_CONFIG_HISTORY

_ARROW = "\u2192"


def tags_by_role(machine: Machine) -> dict[str, str]:
    """The machine's tags by role (state, total_count, ..., energy_meter, ...)."""
    tags = {"state": machine.state_tag} if machine.state_tag else {}
    tags |= {f"{kind}_count": tag for kind, tag in machine.counter_tags.items()}
    tags |= {f"energy_{kind}": tag for kind, tag in machine.energy_tags.items()}
    return tags


@dataclass(frozen=True)
class Alias:
    """`alias`, an earlier name of the role `role` of machine `where` (line/name), read as `tag`."""

    where: str
    role: str
    tag: str
    alias: str


@dataclass(frozen=True)
class Skipped:
    """An earlier name of a role that is not read as its current tag, and why."""

    where: str
    role: str
    tag: str
    alias: str
    reason: str

    def line(self) -> str:
        return f"the points of {self.alias} are not read as the history of {self.tag}: {self.reason}"


@dataclass(frozen=True)
class TagAliases:
    """The aliases of the current configuration's tags; per tag, the most recently used name first."""

    aliases: tuple[Alias, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """(alias, current tag), per current tag the most recently used earlier name first."""
        return tuple((a.alias, a.tag) for a in self.aliases)

    def said(self, changes: Sequence[str]) -> list[str]:
        """The lines of a configuration change with, after each renamed tag, whether the earlier name's
        points are read as the new tag's history; skipped earlier names of other renames last."""
        lines, told = [], set()
        for line in changes:
            lines.append(line)
            for item in (*self.aliases, *self.skipped):
                if line == f"tag renamed on {item.where} ({item.role}): {item.alias} {_ARROW} {item.tag}":
                    told.add(item)
                    lines.append(
                        item.line()
                        if isinstance(item, Skipped)
                        else f"the points of {item.alias} are read as the history of {item.tag}"
                    )
        return lines + [s.line() for s in self.skipped if s not in told]


NO_ALIASES = TagAliases()


def resolve_aliases(current: PlantConfig, earlier: Iterable[PlantConfig]) -> TagAliases:
    """The aliases of `current`'s tags from the `earlier` configurations (the most recently used first),
    matched by line, machine and role as `config_history.diff_configs` names renames."""
    used = {tag: (f"{m.line}/{m.name}", role) for m in current.machines for role, tag in tags_by_role(m).items()}
    now = {(m.line, m.name): tags_by_role(m) for m in current.machines}
    # earlier name -> {current tag: (where, role)}, in the order first met (the most recent config first)
    found: dict[str, dict[str, tuple[str, str]]] = {}
    skipped: dict[tuple[str, str, str], Skipped] = {}
    for config in earlier:
        for m in config.machines:
            tags = now.get((m.line, m.name))
            if tags is None:
                continue
            where = f"{m.line}/{m.name}"
            for role, old in tags_by_role(m).items():
                new = tags.get(role)
                if new is None or new == old:
                    continue
                if old in used:
                    other = "{} ({})".format(*used[old])
                    skipped.setdefault((where, role, old), Skipped(where, role, new, old, f"{other} uses {old} now"))
                    continue
                found.setdefault(old, {}).setdefault(new, (where, role))
    aliases = []
    for old, targets in found.items():
        if len(targets) == 1:
            ((new, (where, role)),) = targets.items()
            aliases.append(Alias(where, role, new, old))
            continue
        for new, (where, role) in targets.items():
            others = ", ".join(f"{t} on {w} ({r})" for t, (w, r) in targets.items() if t != new)
            skipped[(where, role, old)] = Skipped(where, role, new, old, f"{old} was also an earlier name of {others}")
    # grouped by machine and role; within each, the order met (the most recently used name first)
    order = {(m.line, m.name): i for i, m in enumerate(current.machines)}

    def by_machine(item):
        line, name = item.where.split("/", 1)
        return order[(line, name)], item.role

    return TagAliases(
        aliases=tuple(sorted(aliases, key=by_machine)),
        skipped=tuple(sorted(skipped.values(), key=lambda s: (*by_machine(s), s.alias))),
    )


def parse_recorded(yaml_texts: Iterable[str]) -> list[PlantConfig]:
    """The recorded configurations that still load (one that does not cannot be matched by role)."""
    configs = []
    for text in yaml_texts:
        try:
            configs.append(parse_plant_config(yaml.safe_load(text), origin="plant_config_history"))
        except (PlantConfigError, yaml.YAMLError, TypeError, ValueError, AttributeError):
            continue
    return configs


def load_aliases(root: str, config: PlantConfig, storage_options=None) -> TagAliases:
    """The aliases of `config`'s tags from every configuration in `plant_config_history`."""
    rows = delta_read.query_table(
        root,
        PLANT_CONFIG_HISTORY,
        f"select plant_yaml from {PLANT_CONFIG_HISTORY.name} order by last_used_at desc, first_used_at desc",
        storage_options=storage_options,
    )
    return resolve_aliases(config, parse_recorded([r["plant_yaml"] for r in rows]))


# (root, run id) -> (the configuration, its aliases): the history is read once per build and process
_BUILDS: dict[tuple[str, str], tuple[PlantConfig, TagAliases]] = {}


def aliases_for_build(root: str, config: PlantConfig, run_id: str, storage_options=None) -> TagAliases:
    """`load_aliases`, read once per run in a process. A run's own builds record only its configuration,
    whose tags are no aliases of themselves, so what it reads first holds for the whole run."""
    cached = _BUILDS.get((root, run_id))
    if cached is not None and cached[0] is config:
        return cached[1]
    aliases = load_aliases(root, config, storage_options)
    if len(_BUILDS) >= 8:
        _BUILDS.clear()
    _BUILDS[(root, run_id)] = (config, aliases)
    return aliases

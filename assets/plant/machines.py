"""The machines and lines of the plant YAML: a machine's state map, counters and energy tags, a line's output.

A machine with a state tag, its states, two counters and an ideal cycle time has OEE; one with none of
them is a monitoring asset (energy and sensors only). Part of what OEE needs is refused, naming what is missing.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from assets.plant.errors import problem
from assets.plant.fields import Name, PlantModel, Positive, Tag, choice, non_empty_list, set_derived
from assets.plant.targets import MachineTargets, Targets

STATE_CATEGORIES = ("running", "planned_stop", "unplanned_stop", "not_scheduled")


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


class StateMapping(PlantModel):
    category: Annotated[
        str,
        choice(STATE_CATEGORIES, "must be one of {choices}, got {value!r}"),
        WithJsonSchema({"enum": list(STATE_CATEGORIES)}),
    ] = Field(description="What the state means for OEE.")
    reason: str | None = Field(None, description="The reason reported with the state (a stop reason).")

    @model_validator(mode="before")
    @classmethod
    def _category_alone(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("reason", ""), str):
            raise problem(f"must be text, got {data['reason']!r}", "reason")
        return {"category": data} if isinstance(data, str) else data


# The keys only a machine with OEE has; a monitoring asset (no state tag, no counters) refuses them.
_OEE_ONLY_KEYS = (
    "ideal_cycle_time_s",
    "states",
    "counter_rollover",
    "counter_backstep_tolerance",
    "microstop_threshold_s",
    "targets",
    "product_tag",
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


def _tag_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise problem(f"must be a list of tags such as [L1.FILLER.Temp], got {value!r}")
    return value


class Machine(PlantModel):
    """A machine of a line. A machine with a state tag, its state map, two counters and an ideal cycle
    time has OEE; one with none of them (an energy meter, a compressor, a condition-monitoring asset) has
    energy and sensor figures only (`has_oee` is false). Either may list its condition-monitoring tags in
    `sensor_tags`."""

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
        choice(("start", "end"), "must be start or end, got {value!r}"),
        WithJsonSchema({"enum": ["start", "end"]}),
    ] = Field("end", description="Whether an interval reading is stamped at its start or end.")
    # how long a power reading may stand for the energy until the next one; None: modelling's, else
    # three typical reading intervals of the tag (see sql/silver/energy_increments.sql)
    energy_max_gap_s: Positive | None = Field(
        None, description="How long a power reading stands for the energy at most (null: modelling's)."
    )
    microstop_threshold_s: Positive = Field(120.0, description="A stop shorter than this is a microstop.")
    # a condition-monitoring sensor is any tag no machine's model uses; listing it here only names the
    # machine it belongs to (sensor_hourly's line and machine), it stays a sensor
    sensor_tags: Annotated[tuple[Tag, ...], BeforeValidator(_tag_list)] = Field(
        (), description="Condition-monitoring tags of this machine (sensor_hourly names its line and machine)."
    )
    targets: MachineTargets = Field(
        default_factory=MachineTargets, description="The machine's OEE targets and target rate (OEE machines)."
    )
    # which product runs: a value holds until the next, like a state; without it the orders tell
    product_tag: Tag | None = Field(
        None,
        description="The tag of the product running (text, or a number matching a product id); without it the "
        "orders export tells, else the product is unknown.",
    )

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
    def tags(self) -> tuple[str, ...]:
        """Every tag the machine names, its model's and its sensors', each at most once in a plant."""
        model = (self.state_tag, *self.counter_tags.values(), *self.energy_tags.values(), self.product_tag)
        return (*(tag for tag in model if tag is not None), *self.sensor_tags)

    @property
    def counter_tags(self) -> dict[str, str]:
        """The configured counter kinds ("total", "good", "reject") and their tags."""
        tags = {
            "total": self.total_count_tag,
            "good": self.good_count_tag,
            "reject": self.reject_count_tag,
        }
        return {kind: tag for kind, tag in tags.items() if tag}


class Line(PlantModel):
    name: Name = Field(description="The line's name, unique in the plant.")
    area: Name = Field(description="The area (hall, department) the line stands in.")
    machines: Annotated[tuple[Machine, ...], non_empty_list("must be a non-empty list")] = Field(
        description="The line's machines, in the order the product passes them."
    )
    # the machine whose good units are the line's output (the line's "good units", its kWh per unit);
    # None on a line without a machine that has OEE
    output_machine: str | None = Field(
        None,
        description="The machine whose good units are the line's output (default: its last machine with OEE).",
    )
    targets: Targets = Field(default_factory=Targets, description="The line's OEE targets.")

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
            set_derived(self, "output_machine", oee_names[-1] if oee_names else None)
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

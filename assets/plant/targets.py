"""The OEE targets of the plant YAML: what the site, a line or a machine should reach, as fractions.

A target is the number a plant manager measures a day against (the marts' oee_target and oee_target_gap,
the report's red and green); a machine's `rate` is the speed it is meant to run at as a fraction of its
ideal rate, where the plant plans below the nameplate speed (a line that runs a heavy product slower).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from assets.plant.errors import problem
from assets.plant.fields import PlantModel


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise problem(f"must be a fraction above 0 and at most 1 (0.75 for 75 %), got {value!r}")
    return float(value)


Fraction = Annotated[
    float, BeforeValidator(_fraction), WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 1})
]


class Targets(PlantModel):
    """The targets of the site or a line: OEE and, optionally, its three factors."""

    oee: Fraction | None = Field(None, description="The OEE target, a fraction (0.75 for 75 %).")
    availability: Fraction | None = Field(None, description="The availability target, a fraction.")
    performance: Fraction | None = Field(None, description="The performance target, a fraction.")
    quality: Fraction | None = Field(None, description="The quality target, a fraction.")


class MachineTargets(Targets):
    """A machine's targets, and the rate it is meant to run at where that differs from its ideal rate."""

    rate: Fraction | None = Field(
        None, description="The target rate as a fraction of the ideal rate (0.85: 85 % of 1 / ideal_cycle_time_s)."
    )


TARGET_KEYS = ("oee", "availability", "performance", "quality")

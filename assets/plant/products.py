"""The product catalog and changeover targets of the plant YAML.

A product is what the product tag or the orders export names (`id`, text) and the seconds per unit a
machine makes it at ideal speed: its `ideal_cycle_time_s`, overridden per machine in `machines`. A
machine's ideal cycle time for a product it is not listed for is the product's; for time on no known
product it is the machine's own `ideal_cycle_time_s`. Performance is ideal time over run time, with the
ideal time summed product by product (docs/glossary.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from assets.plant.errors import problem
from assets.plant.fields import PlantModel, Positive, choice

# The product of time the product tag and the orders leave open: never a catalog id (ids are checked).
UNKNOWN_PRODUCT = "unknown"
# An orders export lands each order as one bronze point of the tag `order:<order_id>` (assets/readers/orders_csv.py):
# no historian tag, so no sensor, and read by the production runs and orders models alone.
ORDER_TAG_PREFIX = "order:"


def _product_id(value: Any) -> str:
    # YAML 1.1 reads an unquoted 033 as the octal number 27 and 050 as 40: a number here may not be what
    # was written, so ids are text, quoted in the YAML
    if isinstance(value, bool) or not isinstance(value, str):
        hint = " (an unquoted id with a leading 0 reads as an octal number)" if isinstance(value, int) else ""
        raise problem(f'must be text: quote it, as in id: "033", got the number {value!r}{hint}')
    text = str(value).strip()
    if not text or text == UNKNOWN_PRODUCT:
        raise problem(f"must be a non-empty id other than {UNKNOWN_PRODUCT!r}, got {value!r}")
    return text


ProductId = Annotated[str, BeforeValidator(_product_id), WithJsonSchema({"type": "string", "examples": ["033"]})]


def _overrides(value: Any) -> Any:
    if not isinstance(value, dict):
        raise problem(f"must map a machine (NAME or LINE/NAME) to its ideal cycle time, got {value!r}")
    return value


class Product(PlantModel):
    """A product of the catalog: the id the product tag or the orders carry, and its ideal cycle time."""

    id: ProductId = Field(description="The value the product tag or the orders export carries (text).")
    name: str = Field("", description="The product's name, as the marts and the report show it.")
    ideal_cycle_time_s: Positive = Field(description="Seconds per unit at ideal speed, on every machine that makes it.")
    machines: Annotated[dict[str, Positive], BeforeValidator(_overrides)] = Field(
        default_factory=dict,
        description="Per-machine ideal cycle time: machine name (or LINE/MACHINE where names repeat) -> seconds.",
    )


class ChangeoverTarget(PlantModel):
    """The target duration of a changeover from one product to another."""

    from_: ProductId = Field(alias="from", description="The product before the change.")
    to: ProductId = Field(description="The product after the change.")
    target_s: Positive = Field(description="The target duration of this changeover, seconds.")

    model_config = {**PlantModel.model_config, "populate_by_name": True}


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise problem(f"must be a fraction above 0 and at most 1 (0.8 for 80 %), got {value!r}")
    return float(value)


class Changeovers(PlantModel):
    """How a changeover is measured and what it should take."""

    default_target_s: Positive = Field(1800.0, description="Target duration of a changeover, seconds.")
    targets: tuple[ChangeoverTarget, ...] = Field((), description="Targets per product pair: {from, to, target_s}.")
    until: Annotated[
        str,
        choice(("count", "rate"), "must be count or rate, got {value!r}"),
        WithJsonSchema({"enum": ["count", "rate"]}),
    ] = Field(
        "count",
        description="count: a changeover ends at the new product's first count; rate: when the machine first "
        "runs at rate_fraction of the new product's ideal rate over a minute.",
    )
    rate_fraction: Annotated[
        float, BeforeValidator(_fraction), WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 1})
    ] = Field(0.8, description="With until: rate, the fraction of the ideal rate that ends a changeover.")

    @model_validator(mode="after")
    def _pairs_once(self) -> Changeovers:
        seen: set[tuple[str, str]] = set()
        for i, target in enumerate(self.targets):
            pair = (target.from_, target.to)
            if target.from_ == target.to:
                raise problem(
                    f"a changeover goes from one product to another, got {target.from_} -> {target.to}", "targets", i
                )
            if pair in seen:
                raise problem(f"the changeover {pair[0]} -> {pair[1]} is listed twice", "targets", i)
            seen.add(pair)
        return self

    def target_s(self, from_product: str, to_product: str) -> float:
        """The target of a change from one product to another: the pair's, else the default."""
        for target in self.targets:
            if (target.from_, target.to) == (from_product, to_product):
                return target.target_s
        return self.default_target_s

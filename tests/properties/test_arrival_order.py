"""Arrival order does not change the marts (issue #13 section 8), through the real pipeline.

The same generated points, once in a single file landed once, and once split into files, repeated,
overlapping, shuffled, with a file sent twice, landed in several runs (the days built after each run,
or only at the end): every published mart table, whole, is identical. A separate file from the other
invariants so that the suite's two workers can run them side by side.
"""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.helpers.properties.pipeline import built_plant, marts_snapshot, one_file
from tests.helpers.properties.plants import arrivals, plants


@settings(max_examples=max(2, settings.default.max_examples // 2))
@given(data=st.data(), case=plants(), build_between=st.booleans())
def test_arrival_order_does_not_change_the_marts(case, data, build_between):
    """The same points in one file, or split into files, repeated, overlapping, shuffled and landed
    in several runs (the days built after each, or only at the end): identical marts, every table whole."""
    tags = sorted({line.split(",")[1] for line in case.rows()})
    arrival = data.draw(arrivals(case.rows(), tags))
    note(case.describe())
    note(f"exports: {[(e.name, len(e.lines), e.bad, e.content) for e in arrival.exports]}")
    note(f"landing runs after exports {arrival.land_after}, days built after each: {build_between}")
    with built_plant(case, one_file(case)) as plant:
        reference = marts_snapshot(plant)
    with built_plant(case, arrival, build_between=build_between) as plant:
        shuffled = marts_snapshot(plant)
    assert shuffled.keys() == reference.keys()
    for name in reference:
        assert shuffled[name] == reference[name], name

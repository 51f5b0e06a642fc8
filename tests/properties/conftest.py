"""Hypothesis profiles of the property tests, chosen by HYPOTHESIS_PROFILE (default `ci`).

* `ci`: few examples, derandomized (the same examples on every run, so CI is repeatable), no deadline
  (an example runs the whole pipeline: seconds, not milliseconds), no example database.
* `long`: many more random examples, for a local run before a release or after changing a rule:
  `HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/properties -q`.
* `debug`: as `ci`, but stops at the first failing example without shrinking it.
Every example builds its own lakehouse in a temporary folder; the only function-scoped fixture the
tests see is the suite's autouse `_dagster_home`, which just unsets DAGSTER_HOME and so holds for every
example of a test alike (hence the suppressed health check).
"""

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("ci", max_examples=10, derandomize=True, database=None, **_COMMON)
settings.register_profile("long", max_examples=200, **_COMMON)
# for working on a failure: the first failing example, unshrunk, printed with its plant
settings.register_profile(
    "debug", max_examples=10, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate], **_COMMON
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

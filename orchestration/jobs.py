"""Jobs: landing new files, and building one production day's silver tables and marts."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

LANDING_JOB = "land_exports_job"
DAILY_JOB = "daily_oee_job"
# The run tag the instance's run queue limits by (see INSTANCE_YAML in cli/instance.py): a long backfill of
# daily runs never takes the last run slot from the landing run.
JOB_KIND_TAG = "iiot/job"


def build_jobs(
    partitions_def: dg.PartitionsDefinition, checks_run_apart: Sequence[dg.AssetChecksDefinition] = ()
) -> list[dg.UnresolvedAssetJobDefinition]:
    """The landing and the daily job. `checks_run_apart` (the freshness checks, on their own schedule) stay out
    of them: a day's build does not wait on, or fail for, a check of how late the sources are."""
    apart = dg.AssetSelection.checks(*checks_run_apart)
    land = dg.define_asset_job(
        LANDING_JOB,
        selection=dg.AssetSelection.groups("bronze") - apart,
        tags={JOB_KIND_TAG: "landing"},
        description="Land every new file in LANDING_ROOT into bronze (points, quarantine, ledger).",
    )
    daily = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.groups("silver", "marts") - apart,
        partitions_def=partitions_def,
        tags={JOB_KIND_TAG: "daily"},
        description="Model one production day (states, counts, energy) and publish its marts.",
    )
    return [land, daily]

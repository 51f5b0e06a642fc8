"""What each mart reads, as the registry parses it from the SQL: the asset graph's edges into the marts."""

from __future__ import annotations

import pytest

from assets.marts.lineage import LineageError, mart_reads
from assets.marts.registry import all_marts


def reads(name: str) -> set[str]:
    (mart,) = [m for m in all_marts() if m.name == name]
    return set(mart.reads)


def test_oee_daily_reads_the_silver_tables_under_its_staging_views():
    # sql/marts/oee_daily.sql reads silver__plant_calendar, silver__count_increments, silver__tag_quality,
    # plant__machine and plant__tag (the plant YAML: no asset), and the views stg_oee_windows and
    # stg_states_in_plan. stg_oee_windows reads silver__plant_calendar, stg_states_in_plan,
    # stg_counts_in_plan; stg_counts_in_plan reads silver__count_increments and stg_states_in_plan;
    # stg_states_in_plan reads silver__machine_states and stg_planned_windows, which reads
    # silver__plant_calendar. stg_counts_in_plan and stg_states_by_product (the unknown-product flag) read
    # stg_production_runs, which reads silver__production_runs; the data-quality flag of orders that overlap
    # reads silver__orders. No mart before it.
    assert reads("oee_daily") == {
        "silver__plant_calendar",
        "silver__count_increments",
        "silver__tag_quality",
        "silver__machine_states",
        "silver__production_runs",
        "silver__orders",
    }


def test_energy_daily_reads_energy_states_oee_daily_and_the_changeovers():
    # sql/marts/energy_daily.sql reads silver__energy_increments, silver__plant_calendar, the mart oee_daily
    # (its units for energy per unit), plant__asset and stg_energy_by_state; that view reads
    # silver__energy_increments, stg_machine_states, silver__plant_calendar and plant__asset. The states
    # view marks the stops inside changeovers (stg_changeovers): silver__machine_states, the production
    # runs and, for where a changeover ends (the new product's first count), the count increments. So the
    # counters are read for the changeovers, not for the energy.
    assert reads("energy_daily") == {
        "silver__energy_increments",
        "silver__plant_calendar",
        "silver__machine_states",
        "silver__production_runs",
        "silver__count_increments",
        "oee_daily",
    }


def test_downtime_pareto_reads_only_the_mart_of_stops():
    # sql/marts/downtime_pareto.sql: "from downtime_events" and its own CTEs (scope_days, events, ...)
    assert reads("downtime_pareto") == {"downtime_events"}
    # and downtime_events reads stg_machine_states (silver__machine_states with the stops inside changeovers,
    # found from silver__production_runs and silver__count_increments), silver__plant_calendar (also as
    # silver__plant_calendar_every_day, the same table of every day) and plant__machine
    assert reads("downtime_events") == {
        "silver__machine_states",
        "silver__plant_calendar",
        "silver__production_runs",
        "silver__count_increments",
    }


def test_the_weekly_and_monthly_marts_read_their_daily_mart_through_the_table_macro():
    # sql/marts/oee_line_weekly.sql: "from oee_periods('oee_line_daily', 'week', ...)", and the macro
    # (sql/staging/oee_periods.sql) reads the table its first argument names and plant__target (the plant YAML)
    assert reads("oee_line_weekly") == {"oee_line_daily"}
    assert reads("oee_monthly") == {"oee_daily"}
    assert reads("oee_site_weekly") == {"oee_site_daily"}


def test_a_table_that_is_neither_silver_staging_plant_nor_an_earlier_mart_is_named():
    # a mart may read the marts built before it, not one built after it or an unknown table
    with pytest.raises(LineageError, match="first: reads second"):
        mart_reads({"first": "select * from second", "second": "select * from silver__machine_states"})
    with pytest.raises(LineageError, match="reads bronze_historian__points"):
        mart_reads({"raw": "select * from bronze_historian__points"})
    assert mart_reads({"a": "select * from silver__tag_quality", "b": "select * from a, plant__tag"}) == {
        "a": ("silver__tag_quality",),
        "b": ("a",),
    }

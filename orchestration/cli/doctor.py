"""`iiot-lakehouse doctor`: print the problems orchestration/doctor/ finds; with --repair, repair them, land and
rebuild like `run`, then check again."""

from __future__ import annotations

import argparse
import datetime as dt

from assets.bronze.landing import _heal_tag_catalog, point_span
from assets.plant.calendar import production_day_of

from .. import doctor
from ..doctor.ledger import restore_ledger_rows
from ..resources import resource_from_env
from .errors import CommandError
from .run_pipeline import cmd_run


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print each problem with its table and file; with --repair, repair them, land and rebuild like
    `run`, then check again. Exit 1 while any problem is left; the last line counts them."""
    resource = resource_from_env()
    lakehouse, config = resource.lakehouse(), resource.plant()
    problems = doctor.check(lakehouse, config)
    for problem in problems:
        print(problem)
    if args.repair and problems:
        print(f"repairing {len(problems)} problem(s)")
        plan = doctor.repair(lakehouse, problems)
        for line in plan.done:
            print(f"  {line}")
        ended = production_day_of(config, dt.datetime.now(dt.UTC))
        if plan.all_days:
            first, last = point_span(lakehouse)
            if first is not None:
                start = production_day_of(config, first)
                span = (production_day_of(config, last) - start).days + 1
                plan.days |= {start + dt.timedelta(days=i) for i in range(span)}
        # the dropped files land again, and the days they touch are rebuilt, as `run` does them
        try:
            cmd_run(argparse.Namespace(start=None, end=None, rebuild_all=False))
        except CommandError as exc:
            print(f"  run: {exc}")
        unlanded = restore_ledger_rows(lakehouse, plan)
        if plan.relanded or plan.heal_tag_catalog:
            _heal_tag_catalog(lakehouse, config)
        for day in sorted(d for d in plan.days if d < ended and d >= config.calendar.first_day):
            try:
                cmd_run(argparse.Namespace(start=day, end=day, rebuild_all=False))
            except CommandError as exc:
                print(f"  run {day}: {exc}")
        for name in unlanded:
            print(f"  {name}: not landed again (is it still in LANDING_ROOT, unchanged?)")
        print("checking again")
        problems = doctor.check(lakehouse, config)
        for problem in problems:
            print(problem)
    if problems:
        if args.repair:
            raise CommandError(f"{len(problems)} problem(s) left")
        raise CommandError(f"{len(problems)} problem(s) found; repair with: iiot-lakehouse doctor --repair")
    print("no problems found")
    return 0

"""`python -m bench.run --scale tiny|small|full`: generate exports, run every contender, print the table.

Each contender runs in its own process (see `bench.workers`), on the same files in the same run, so
the ratios hold on a noisy machine. Nothing here asserts a time: the targets are printed beside the
figures as PASS or MISS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from assets.plant.calendar import production_day_window

from .exports import write_export
from .plant import bench_plant, bench_tags, plant_dict

ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "BENCH_RESULT "
GIB = 1024


@dataclass(frozen=True)
class Scale:
    """How big each part of the benchmark is."""

    machines: int
    tags_per_machine: int
    sensor_period_ms: int  # condition-monitoring sensors; the model tags keep their own rates
    speed_hours: float  # the export that the limit, ours and the peer all read
    memory_hours: tuple[float, float, float]  # three exports for the memory line (about 0.3, 1.3, 5 GB at full)
    history_days: tuple[int, int]  # the production day again after this much history
    history_sensor_period_ms: int  # history is generated cheaply, at low point density
    history_model_factor: int  # ...and with the model tags this many times sparser
    repeat: int  # runs of each speed contender; the median is reported
    query_repeat: int


SCALES = {
    "tiny": Scale(2, 8, 60_000, 2, (0.5, 1, 2), (1, 2), 900_000, 10, 1, 3),
    "small": Scale(10, 8, 1_000, 6, (1.5, 6, 24), (10, 60), 900_000, 10, 3, 20),
    "full": Scale(50, 8, 1_000, 6, (6, 24, 96), (30, 180), 900_000, 10, 3, 20),
}
DAY = dt.date(2025, 6, 30)  # the production day measured end to end (a Monday; no DST change near it)


def run_worker(task: str, args: dict, python: str | None = None, module: str = "bench.workers") -> dict:
    """Run one task in a fresh process and return its result line (with its own peak RSS)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = [python or sys.executable, "-m", module] + ([task] if task else []) + [json.dumps(args)]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"{task or module} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")


def median_of(results: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in results)


class Bench:
    def __init__(self, scale_name: str, work: Path, peer_python: str | None, log=print):
        self.name = scale_name
        self.scale = SCALES[scale_name]
        self.work = work
        self.peer_python = peer_python
        self.log = log
        self.config = bench_plant(self.scale.machines)
        self.tags = bench_tags(self.config, self.scale.tags_per_machine)
        self.plant_yaml = work / "plant.yaml"
        self.plant_yaml.write_text(yaml.safe_dump(plant_dict(self.scale.machines)), encoding="utf-8")
        self.rows: list[dict] = []
        self.notes: list[str] = []

    # ------------------------------------------------------------------ data
    def export(self, name: str, start: dt.datetime, hours: float, **kw) -> tuple[Path, int]:
        path = self.work / "exports" / name
        t0 = time.perf_counter()
        rows = write_export(path, self.tags, start, start + dt.timedelta(hours=hours), **kw)
        self.log(f"  wrote {name}: {rows:,} rows, {_size(path)} in {time.perf_counter() - t0:.1f} s")
        return path, rows

    def landing_with(self, name: str, *files: Path) -> Path:
        folder = self.work / name / "historian"
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            target = folder / f.name
            if not target.exists():
                os.link(f, target)
        return folder.parent

    def add_row(self, **row) -> None:
        self.rows.append(row)

    # ------------------------------------------------------------------ 1-3: limit, ours, peer
    def speed(self) -> None:
        s = self.scale
        day_start = production_day_window(self.config, DAY)[0]
        fresh, rows = self.export("speed.csv", day_start, s.speed_hours, sensor_period_ms=s.sensor_period_ms)
        half = dt.timedelta(hours=s.speed_hours / 2)
        again, again_rows = self.export(
            "speed_reexport.csv", day_start + half, s.speed_hours, sensor_period_ms=s.sensor_period_ms
        )

        limit, ours, dedup, peer = [], [], [], []
        for k in range(s.repeat):
            self.log(f"  run {k + 1}/{s.repeat}: limit, ours (fresh, re-export), peer")
            limit.append(run_worker("limit", {"file": str(fresh), "out": str(self.work / "limit.parquet")}))
            lakehouse = self.work / f"lh_speed_{k}"
            landing = self.landing_with(f"landing_speed_{k}", fresh)
            ours.append(
                run_worker("land", {"machines": s.machines, "lakehouse": str(lakehouse), "landing": str(landing)})
            )
            self.landing_with(f"landing_speed_{k}", again)
            dedup.append(
                run_worker("land", {"machines": s.machines, "lakehouse": str(lakehouse), "landing": str(landing)})
            )
            shutil.rmtree(lakehouse, ignore_errors=True)
            peer_dir = self.work / "peer_out"
            peer_dir.mkdir(exist_ok=True)
            peer.append(
                run_worker(
                    "",
                    {"file": str(fresh), "out_dir": str(peer_dir), "timezone": self.config.timezone},
                    python=self.peer_python,
                    module="bench.peer",
                )
            )
        t_limit, t_ours, t_dedup = median_of(limit), median_of(ours), median_of(dedup)
        peer_skipped = peer[0].get("skipped")
        t_peer = None if peer_skipped else median_of(peer)
        rps_limit, rps_ours = rows / t_limit, rows / t_ours
        rps_peer = None if t_peer is None else rows / t_peer
        label = f"{rows:,} rows, {_size(fresh)}"
        self.add_row(
            item="1 limit: DuckDB CSV->Parquet",
            detail=label,
            seconds=t_limit,
            rps=rps_limit,
            rss=max(r["peak_rss_mb"] for r in limit),
        )
        self.add_row(
            item="2 ours: land fresh export",
            detail=f"{label}; {ours[0]['rows_new']:,} new",
            seconds=t_ours,
            rps=rps_ours,
            rss=max(r["peak_rss_mb"] for r in ours),
            vs_limit=rps_ours / rps_limit,
            vs_peer=None if rps_peer is None else rps_ours / rps_peer,
            target=">=0.7x limit, >=4x peer",
            ok=rps_ours >= 0.7 * rps_limit and (rps_peer is None or rps_ours >= 4 * rps_peer),
        )
        self.add_row(
            item="2 ours: land overlapping re-export",
            detail=f"{again_rows:,} rows; {dedup[0]['rows_duplicate']:,} dup, {dedup[0]['rows_new']:,} new",
            seconds=t_dedup,
            rps=again_rows / t_dedup,
            rss=max(r["peak_rss_mb"] for r in dedup),
            vs_limit=(again_rows / t_dedup) / rps_limit,
            vs_peer=None if rps_peer is None else (again_rows / t_dedup) / rps_peer,
        )
        if peer_skipped:
            self.add_row(item="3 peer: pandas + pandera", detail=f"SKIPPED: {peer_skipped}")
            self.notes.append(f"peer skipped: {peer_skipped}")
        else:
            self.add_row(
                item="3 peer: pandas + pandera",
                detail=label,
                seconds=t_peer,
                rps=rps_peer,
                rss=max(r["peak_rss_mb"] for r in peer),
                vs_limit=rps_peer / rps_limit,
            )

    # ------------------------------------------------------------------ 4: memory
    def memory(self) -> None:
        s = self.scale
        day_start = production_day_window(self.config, DAY)[0]
        peaks = []
        for hours in s.memory_hours:
            path, rows = self.export(f"memory_{hours}h.csv", day_start, hours, sensor_period_ms=s.sensor_period_ms)
            size = _size(path)
            landing = self.landing_with(f"landing_memory_{hours}", path)
            lakehouse = self.work / f"lh_memory_{hours}"
            r = run_worker("land", {"machines": s.machines, "lakehouse": str(lakehouse), "landing": str(landing)})
            shutil.rmtree(lakehouse, ignore_errors=True)
            shutil.rmtree(landing, ignore_errors=True)
            path.unlink()
            peaks.append(r["peak_rss_mb"])
            self.add_row(
                item=f"4 memory: land {size} export",
                detail=f"{rows:,} rows",
                seconds=r["seconds"],
                rps=rows / r["seconds"],
                rss=r["peak_rss_mb"],
            )
        flat = peaks[-1] <= 1.25 * peaks[0]
        self.add_row(
            item="4 memory: peak RSS, smallest->largest",
            detail=" -> ".join(f"{p:.0f}" for p in peaks) + " MB",
            rss=max(peaks),
            target="<1 GiB and flat (<=1.25x)",
            ok=max(peaks) < GIB and flat,
        )

    # ------------------------------------------------------------------ 5: a production day, 6: queries
    def production_day(self) -> None:
        s = self.scale
        start, end = production_day_window(self.config, DAY)
        day_file, day_rows = self.export(
            f"History_{DAY:%Y%m%d}.csv",
            start,
            (end - start).total_seconds() / 3600,
            sensor_period_ms=s.sensor_period_ms,
        )
        results = {}
        results[0] = self.run_day("lh_day_0", day_file)
        short, long = s.history_days
        lakehouse = self.work / "lh_history"
        self.log(f"  history: {short} days before {DAY}")
        self.add_history(lakehouse, [DAY - dt.timedelta(days=k) for k in range(short, 0, -1)])
        shutil.copytree(lakehouse, self.work / f"lh_day_{short}")
        results[short] = self.run_day(f"lh_day_{short}", day_file)
        self.log(f"  history: {long} days before {DAY}")
        self.add_history(lakehouse, [DAY - dt.timedelta(days=k) for k in range(long, short, -1)])
        shutil.copytree(lakehouse, self.work / f"lh_day_{long}")
        results[long] = self.run_day(f"lh_day_{long}", day_file)
        for days, r in results.items():
            row = dict(
                item=f"5 day end to end, {days} days history",
                detail=f"{s.machines} machines, {day_rows:,} rows; land {r['land_seconds']:.1f} s + daily "
                f"{r['daily_seconds']:.1f} s",
                seconds=r["seconds"],
                rps=day_rows / r["seconds"],
                rss=r["peak_rss_mb"],
                target="<=60 s",
                ok=r["seconds"] <= 60 and r["success"],
            )
            self.add_row(**row)
        ratio = results[long]["seconds"] / results[short]["seconds"]
        self.add_row(
            item=f"5 day after {long} vs after {short} days", detail=f"{ratio:.2f}x", target="<=1.2x", ok=ratio <= 1.2
        )
        self.queries(self.work / f"lh_day_{long}")

    def add_history(self, lakehouse: Path, days: list[dt.date]) -> None:
        """Land one low-density export per history day, then model the days and publish their marts."""
        s = self.scale
        landing = self.work / "landing_history"
        t0 = time.perf_counter()
        files = [self.history_export_sparse(d) for d in days]
        self.landing_with("landing_history", *files)
        history = run_worker(
            "history",
            {
                "machines": s.machines,
                "lakehouse": str(lakehouse),
                "landing": str(landing),
                "days": [d.isoformat() for d in days],
            },
        )
        land, silver = history["land"], history["silver"]
        self.log(
            f"    {len(days)} days, {land['rows']:,} rows: landed in {land['seconds']:.0f} s, silver and marts in "
            f"{silver['seconds']:.0f} s (set-up, {time.perf_counter() - t0:.0f} s in all)"
        )

    def history_export_sparse(self, day: dt.date) -> Path:
        from . import exports

        s = self.scale
        start, end = production_day_window(self.config, day)
        path = self.work / "history" / f"History_{day:%Y%m%d}.csv"
        saved = dict(exports.PERIOD_MS)
        exports.PERIOD_MS.update({k: v * s.history_model_factor for k, v in saved.items()})
        try:
            write_export(path, self.tags, start, end, sensor_period_ms=s.history_sensor_period_ms)
        finally:
            exports.PERIOD_MS.update(saved)
        return path

    def run_day(self, name: str, day_file: Path) -> dict:
        landing = self.work / f"landing_{name}"
        (landing / "historian").mkdir(parents=True, exist_ok=True)
        if (self.work / "landing_history" / "historian").exists():
            # the history files are in the landing folder as in production (the ledger skips them)
            for f in (self.work / "landing_history" / "historian").iterdir():
                os.link(f, landing / "historian" / f.name)
        os.link(day_file, landing / "historian" / day_file.name)
        self.log(f"  production day {DAY} on {name}")
        return run_worker(
            "day",
            {
                "lakehouse": str(self.work / name),
                "landing": str(landing),
                "plant_config": str(self.plant_yaml),
                "dagster_home": str(self.work / "dagster_home"),
                "day": DAY.isoformat(),
            },
        )

    def queries(self, lakehouse: Path) -> None:
        r = run_worker(
            "queries",
            {"marts": str(lakehouse / "marts.duckdb"), "last_day": DAY.isoformat(), "repeat": self.scale.query_repeat},
        )
        for name, q in r["queries"].items():
            self.add_row(
                item=f"6 query: {name}",
                detail=f"{q['rows']} rows",
                seconds=q["seconds"],
                target="<=100 ms",
                ok=q["seconds"] <= 0.1,
            )


def format_table(rows: list[dict]) -> str:
    header = ["measure", "median s", "rows/s", "peak RSS MB", "x limit", "x peer", "target", "", "detail"]
    out = [header]
    for r in rows:
        out.append(
            [
                r["item"],
                _fmt(r.get("seconds"), "{:.3f}"),
                _fmt(r.get("rps"), "{:,.0f}"),
                _fmt(r.get("rss"), "{:.0f}"),
                _fmt(r.get("vs_limit"), "{:.2f}"),
                _fmt(r.get("vs_peer"), "{:.2f}"),
                r.get("target", ""),
                "" if "ok" not in r else ("PASS" if r["ok"] else "MISS"),
                r.get("detail", ""),
            ]
        )
    widths = [max(len(row[i]) for row in out) for i in range(len(header))]
    lines = []
    for k, row in enumerate(out):
        lines.append(
            "  ".join(
                cell.ljust(w) if i in (0, 6, 7, 8) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"


def _fmt(value, pattern: str) -> str:
    return "" if value is None else pattern.format(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--peer-python", help="an interpreter with pandas and pandera[pandas] (default: this one)")
    parser.add_argument("--work", help="folder for the generated data (default: a temporary folder, removed after)")
    parser.add_argument("--only", nargs="*", choices=["speed", "memory", "day"], help="run only these parts")
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="iiot-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"benchmark at scale {args.scale}: {SCALES[args.scale]}; data in {work}", flush=True)
    bench = Bench(args.scale, work, args.peer_python, log=lambda m: print(m, flush=True))
    try:
        parts = args.only or ["speed", "memory", "day"]
        if "speed" in parts:
            bench.speed()
        if "memory" in parts:
            bench.memory()
        if "day" in parts:
            bench.production_day()
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(format_table(bench.rows))
    for note in bench.notes:
        print(f"note: {note}")
    print(
        f"\n{os.cpu_count()} cores, {dt.datetime.now().isoformat(timespec='seconds')}, "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(bench.rows, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

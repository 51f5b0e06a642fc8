"""Building the DuckDB marts from silver and publishing them atomically.

The published file `$LAKEHOUSE_ROOT/marts.duckdb` is never written in place: a copy is built aside,
the days being rebuilt are replaced in it, audited (sql/audit/marts_audit.sql), and only if they pass
is the copy renamed over the published file and are the days published to gold. An
analyst who holds the old file open keeps reading a complete version and never blocks the pipeline.
Publishers take a lock so that two runs never build from the same old copy and lose each other's days.

A lakehouse in object storage publishes `$LAKEHOUSE_ROOT/marts/marts.duckdb`: the file is built the same
way in a local cache folder (starting from the published copy) and then stored with one upload, which
readers see whole or not at all, never half-written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import yaml

from assets.marts.plant_tables import plant_shift, plant_site
from assets.plant.config import PlantConfig
from assets.silver import watermarks
from assets.storage import delta, object_store
from assets.storage.locks import exclusive_lock
from assets.storage.schemas import SILVER_DAY_TABLES, SILVER_PLANT_CALENDAR

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
AUDIT_SQL = Path("audit") / "marts_audit.sql"
# The audit's upper bound for performance. Up to 1.0 is physics; a little above it means the ideal cycle
# time or a counter is a little wrong, which the marts publish and data quality flags for the plant
# engineer. Half as fast again as the ideal machine cannot be a slightly wrong setting: such a day is not
# published.
PERFORMANCE_TOLERANCE = 1.5
MARTS_FILE = "marts.duckdb"
# The marts file is written in the storage format of DuckDB 1.4 (the long-term-support line many
# analysts still run), so DuckDB 1.4, 1.5 and newer (the duckdb command-line client on PyPI) open it.
STORAGE_VERSION = "v1.4.0"
SILVER_INPUTS = SILVER_DAY_TABLES  # the marts read every silver table


@dataclass(frozen=True)
class Mart:
    """A mart, as its YAML beside its SQL declares it (sql/marts/<name>.yml and <name>.sql).

    scope "day" replaces the rows of the days being rebuilt, "week" the ISO weeks (column `week`, their
    Monday) and "month" the months they fall in, "all" every row (a table of the plant YAML), and
    "period" the day rows of those days and the week rows of their ISO weeks. `order` is the build order:
    a mart may read the marts before it. `columns` holds every output column of the SQL with the
    description written into the DuckDB file; `checks` names the audit checks (sql/audit/marts_audit.sql)
    that guard the mart's rows.
    """

    name: str
    sql_file: str
    description: str
    scope: str = "day"
    grain: str = ""
    order: int = 0
    columns: tuple[tuple[str, str], ...] = ()
    checks: tuple[str, ...] = ()
    # (what the query answers, the SQL): the analysts' reference (docs/marts.md) shows them under the mart
    examples: tuple[tuple[str, str], ...] = ()

    def doc(self, column: str) -> str | None:
        """The description of one output column."""
        return dict(self.columns).get(column)


class MartDefinitionError(ValueError):
    """A mart's YAML does not match its SQL (a column undocumented or gone, a key missing, ...)."""


STAGING: tuple[str, ...] = (
    "stg_planned_windows",
    "stg_states_in_plan",
    "stg_counts_in_plan",
    "stg_energy_by_state",
    "stg_oee_windows",
    "stg_oee_rollups",
)

MARTS_DIR = Path("marts")
_MART_KEYS = {"name", "order", "description", "grain", "scope", "columns", "checks", "examples"}
_OPTIONAL_KEYS = {"checks", "examples"}


def audit_checks(sql_dir: Path = SQL_DIR) -> tuple[str, ...]:
    """The checks the marts audit reports, by name (`'check': '<name>'` in sql/audit/marts_audit.sql)."""
    text = (sql_dir / AUDIT_SQL).read_text(encoding="utf-8")
    return tuple(sorted(set(re.findall(r"'check': '([a-z_]+)'", text))))


def load_marts(sql_dir: Path = SQL_DIR) -> tuple[Mart, ...]:
    """Every mart of sql/marts/, in build order, from its YAML; checked against what its SQL produces.

    Raises MartDefinitionError naming the mart (and the column) when a YAML is incomplete, a SQL file has
    no YAML, or the SQL's output columns and the YAML's documented columns differ."""
    folder = sql_dir / MARTS_DIR
    known_checks = set(audit_checks(sql_dir))
    marts = []
    for sql_file in sorted(folder.glob("*.sql")):
        if not sql_file.with_suffix(".yml").is_file():
            raise MartDefinitionError(f"mart {sql_file.stem}: {sql_file.with_suffix('.yml').name} is missing")
    for yml in sorted(folder.glob("*.yml")):
        marts.append(_read_mart(yml, known_checks))
    orders = [m.order for m in marts]
    for mart in marts:
        if orders.count(mart.order) > 1:
            raise MartDefinitionError(f"mart {mart.name}: order {mart.order} is taken by another mart")
    marts.sort(key=lambda m: m.order)
    _check_columns(marts, sql_dir)
    return tuple(marts)


def _read_mart(yml: Path, known_checks: set[str]) -> Mart:
    name = yml.stem
    try:
        spec = yaml.safe_load(yml.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MartDefinitionError(f"mart {name}: {yml.name} is no YAML: {error}") from error
    if not isinstance(spec, dict):
        raise MartDefinitionError(f"mart {name}: {yml.name} is not a mapping")
    missing = sorted(_MART_KEYS - _OPTIONAL_KEYS - set(spec))
    unknown = sorted(set(spec) - _MART_KEYS)
    if missing or unknown:
        raise MartDefinitionError(
            f"mart {name}: {yml.name} lacks {missing or 'nothing'}, has unknown {unknown or 'none'}"
        )
    if spec["name"] != name:
        raise MartDefinitionError(f"mart {name}: {yml.name} names it {spec['name']!r}")
    if not yml.with_suffix(".sql").is_file():
        raise MartDefinitionError(f"mart {name}: {yml.with_suffix('.sql').name} is missing")
    if spec["scope"] not in _SCOPES:
        raise MartDefinitionError(f"mart {name}: scope {spec['scope']!r} is none of {', '.join(_SCOPES)}")
    if not isinstance(spec["order"], int):
        raise MartDefinitionError(f"mart {name}: order {spec['order']!r} is not a whole number")
    columns = spec["columns"]
    if not isinstance(columns, dict):
        raise MartDefinitionError(f"mart {name}: columns in {yml.name} is no mapping of column to description")
    for column, doc in columns.items():
        if not isinstance(column, str):  # YAML reads on, off, yes, no, null and numbers as no name
            raise MartDefinitionError(f"mart {name}: column {column!r} in {yml.name} must be quoted")
        if not isinstance(doc, str) or not doc.strip():
            raise MartDefinitionError(f"mart {name}: column {column} has no description in {yml.name}")
    checks = tuple(spec.get("checks") or ())
    for check in checks:
        if check not in known_checks:
            raise MartDefinitionError(f"mart {name}: check {check!r} is not one the marts audit reports")
    for key in ("description", "grain"):
        if not isinstance(spec[key], str) or not spec[key].strip():
            raise MartDefinitionError(f"mart {name}: {yml.name} has no {key}")
    examples = spec.get("examples") or []
    if not isinstance(examples, list) or not all(
        isinstance(e, dict) and set(e) == {"title", "sql"} and all(isinstance(v, str) for v in e.values())
        for e in examples
    ):
        raise MartDefinitionError(f"mart {name}: examples in {yml.name} must be a list of {{title, sql}}")
    return Mart(
        name=_checked(name),
        sql_file=str(MARTS_DIR / f"{name}.sql"),
        description=spec["description"],
        scope=spec["scope"],
        grain=spec["grain"],
        order=spec["order"],
        columns=tuple(columns.items()),
        checks=checks,
        examples=tuple((e["title"], e["sql"].strip()) for e in examples),
    )


def _check_columns(marts: Sequence[Mart], sql_dir: Path) -> None:
    """Bind each mart's SQL over empty inputs (in build order, each mart an empty table for the next) and
    compare its output columns with the columns its YAML documents."""
    con = duckdb.connect(":memory:")
    try:
        for spec in SILVER_INPUTS:
            con.register(spec.name, spec.empty())
        con.register("silver__plant_calendar_every_day", SILVER_PLANT_CALENDAR.empty())
        # a plant without machines: the dimension tables empty, with their columns
        calendar = SimpleNamespace(day_start=dt.time(0), working_days=(), shifts=(), breaks=())
        _register_dimensions(
            con, SimpleNamespace(site="", timezone="UTC", calendar=calendar, lines=(), machines=(), oee_machines=())
        )
        _register_staging(con, sql_dir)
        for mart in marts:
            query = read_sql(mart, sql_dir)
            try:
                produced = [d[0] for d in con.sql(f"select * from ({query}) limit 0", params={"days": []}).description]
            except duckdb.Error as error:
                raise MartDefinitionError(f"mart {mart.name}: sql/{mart.sql_file} does not bind: {error}") from error
            documented = [c for c, _ in mart.columns]
            for column in produced:
                if column not in documented:
                    raise MartDefinitionError(
                        f"mart {mart.name}: column {column} of sql/{mart.sql_file} is not documented in its YAML"
                    )
            for column in documented:
                if column not in produced:
                    raise MartDefinitionError(
                        f"mart {mart.name}: column {column} documented in its YAML is not produced by "
                        f"sql/{mart.sql_file}"
                    )
            con.execute(f"create table {mart.name} as select * from ({query}) limit 0", {"days": []}).fetchall()
    finally:
        con.close()


def marts_path(lakehouse_root: str) -> Path:
    """The local marts file: the published one beside the tables of a local lakehouse, or this
    machine's cached copy of a lakehouse in object storage (see `fetch_published_marts`)."""
    root = delta.normalise_root(lakehouse_root)
    if not delta.is_local(root):
        return marts_cache_dir(root) / MARTS_FILE
    return Path(root.removeprefix("file://")) / MARTS_FILE


def marts_uri(lakehouse_root: str) -> str:
    """Where the marts are published: the local file, or `$LAKEHOUSE_ROOT/marts/marts.duckdb`."""
    root = delta.normalise_root(lakehouse_root)
    if not delta.is_local(root):
        return f"{root}/marts/{MARTS_FILE}"
    return str(marts_path(root))


def marts_cache_dir(lakehouse_root: str) -> Path:
    """This machine's folder for the marts of a remote lakehouse ($XDG_CACHE_HOME/iiot-lakehouse/<root>)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "iiot-lakehouse"
    digest = hashlib.sha256(delta.normalise_root(lakehouse_root).encode()).hexdigest()[:16]
    return base / f"marts-{digest}"


def fetch_published_marts(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> Path:
    """The published marts as a local file: a remote lakehouse's file is downloaded into the cache
    (replacing the cached copy atomically), a local one is returned where it is."""
    target = marts_path(lakehouse_root)
    uri = marts_uri(lakehouse_root)
    if object_store.is_remote(uri) and object_store.exists(uri, storage_options or {}):
        object_store.download(uri, target, storage_options or {})
    return target


def dim_machine(config: PlantConfig) -> pa.Table:
    """The machines that have OEE (a state tag and counters): every OEE, stop and reliability mart is built
    over these. A monitoring asset (energy and sensors only) is in dim_asset, not here."""
    machines = config.oee_machines
    return pa.table(
        {
            "site": pa.array([config.site] * len(machines), pa.string()),
            "area": pa.array([m.area for m in machines], pa.string()),
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "ideal_cycle_time_s": pa.array([m.ideal_cycle_time_s for m in machines], pa.float64()),
            "microstop_threshold_s": pa.array([m.microstop_threshold_s for m in machines], pa.float64()),
            # which counters the machine has: the third of total, good and reject is derived
            "has_total": pa.array(["total" in m.counter_tags for m in machines], pa.bool_()),
            "has_good": pa.array(["good" in m.counter_tags for m in machines], pa.bool_()),
            "has_reject": pa.array(["reject" in m.counter_tags for m in machines], pa.bool_()),
            # a line's output is the good units of its output machine (plant YAML, default its last machine),
            # never the sum over machines that count different things (bottles, packs)
            "is_output_machine": pa.array([_is_output(config, m) for m in machines], pa.bool_()),
        }
    )


def dim_asset(config: PlantConfig) -> pa.Table:
    """Every machine of the plant, OEE machines and monitoring assets alike: the energy marts are built
    over these. `has_oee` is false for an asset without state and counters (its energy is not split by
    machine state); `has_energy` is false for one without an energy tag."""
    machines = config.machines
    return pa.table(
        {
            "site": pa.array([config.site] * len(machines), pa.string()),
            "area": pa.array([m.area for m in machines], pa.string()),
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "has_oee": pa.array([m.has_oee for m in machines], pa.bool_()),
            "has_energy": pa.array([bool(m.energy_tags) for m in machines], pa.bool_()),
            "is_output_machine": pa.array([_is_output(config, m) for m in machines], pa.bool_()),
        }
    )


def _is_output(config: PlantConfig, machine) -> bool:
    return any(line.name == machine.line and line.output_machine == machine.name for line in config.lines)


def read_sql(mart: Mart, sql_dir: Path = SQL_DIR) -> str:
    return (sql_dir / mart.sql_file).read_text(encoding="utf-8")


def register_silver(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    days: Sequence[dt.date] | None,
    storage_options: dict[str, str] | None = None,
) -> None:
    """Expose the silver tables (only the given days, or all) to DuckDB under their own names."""
    for spec in SILVER_INPUTS:
        delta.register_table(
            con,
            spec.name,
            delta.table_uri(lakehouse_root, spec.name),
            spec,
            partitions=delta.date_partitions("day", days) if days is not None else None,
            storage_options=storage_options,
        )


def silver_days(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> list[dt.date]:
    """Every production day whose silver build finished: each silver table recorded it in the day's
    watermark. A day another run is building right now, or whose build was killed, is not one: marts
    built from it would read half a day. A lakehouse that keeps no watermark yet gives the days its
    silver holds a calendar for."""
    built = watermarks.built_silver_days(lakehouse_root, storage_options)
    if built is not None:
        return built
    with delta.duckdb_session() as con:
        register_silver(con, lakehouse_root, None, storage_options)
        rows = con.sql("select distinct day from silver__plant_calendar order by 1").fetchall()
    return [r[0] for r in rows]


def stale_days(
    lakehouse_root: str, config: PlantConfig, storage_options: dict[str, str] | None = None
) -> list[watermarks.StaleDay]:
    """The production days to rebuild by the day watermark, and why (`watermarks.stale_days`), with the
    published marts file itself checked: a file lost or deleted makes every built day stale."""
    uri = marts_uri(lakehouse_root)
    exists = object_store.exists(uri, storage_options or {}) if object_store.is_remote(uri) else Path(uri).is_file()
    return watermarks.stale_days(lakehouse_root, config, storage_options, marts_file_exists=exists)


def publish_marts(
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
    marts: Sequence[Mart] | None = None,
    sql_dir: Path = SQL_DIR,
) -> dict[str, int]:
    """Rebuild the given production days of every mart aside, audit them, and publish the file atomically.

    Silver is read for the days and their neighbours, so a shift or a stop across a day's edge is
    whole. Returns the rows of the rebuilt scope per mart. When a mart's columns changed since the
    last publish, every mart is rebuilt over every day silver holds, so no old day is left half-filled.

    The rebuilt days are audited in the copy built aside (`audit_marts`): only if every check passes does
    the copy replace the published file and gold take the days. Otherwise the copy is deleted, the
    published file and gold keep their previous numbers, and MartsAuditError names each problem.
    """
    marts = MARTS if marts is None else marts
    target = marts_path(lakehouse_root)
    remote = object_store.is_remote(marts_uri(lakehouse_root))
    days = sorted(set(days))
    written: dict[str, int] = {}
    started_at = watermarks.now()  # silver written after this is not in these marts
    # The lock is a local file: for a remote lakehouse it orders the publishers of this machine, and the
    # Dagster pool `marts_publish` those of one instance.
    with exclusive_lock(target.with_suffix(".lock")):
        if remote:
            # build from what is published now, not from what this machine cached earlier
            target.unlink(missing_ok=True)
            fetch_published_marts(lakehouse_root, storage_options)
        building = target.with_name(f".{target.name}.building-{os.getpid()}")
        building.unlink(missing_ok=True)
        fresh = not (target.exists() and storage_version(target) == STORAGE_VERSION)
        if not fresh:
            shutil.copyfile(target, building)
        con = duckdb.connect(str(building), config={"storage_compatibility_version": STORAGE_VERSION})
        try:
            con.execute("SET TimeZone = 'UTC'").fetchall()
            con.execute("SET enable_progress_bar = false").fetchall()
            # one thread: floating-point sums then add in one order, so a rebuild is bit for bit the same
            con.execute("SET threads = 1").fetchall()
            _register_inputs(con, lakehouse_root, config, _with_neighbours(days), storage_options, sql_dir)
            if fresh or _definitions_changed(con, marts, sql_dir):
                # a new file (or one in an older storage format, or with changed marts): every day
                days = silver_days(lakehouse_root, storage_options)
                _register_inputs(con, lakehouse_root, config, None, storage_options, sql_dir)
                for mart in marts:
                    con.execute(f"drop table if exists {_checked(mart.name)}").fetchall()
            for mart in marts:
                written[mart.name] = _rebuild_mart(con, mart, days, sql_dir)
            # write, audit, publish: the copy aside replaces the published file only if its days pass
            problems = audit_marts(con, days, sql_dir)
            if not problems:
                con.execute("CHECKPOINT").fetchall()
        except BaseException:
            con.close()
            _discard(building)
            raise
        con.close()
        if problems:
            _discard(building)
            raise MartsAuditError(problems, days)
        with open(building, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(building, target)
        _fsync_dir(target.parent)
        if remote:
            object_store.upload(target, marts_uri(lakehouse_root), storage_options or {})
        publish_all_gold(target, lakehouse_root, marts, days, storage_options)
        watermarks.record_builds(
            lakehouse_root, "marts", watermarks.MARTS_TABLE, days, started_at, storage_options=storage_options
        )
    return written


@dataclass(frozen=True)
class AuditProblem:
    """One row of the marts audit (sql/audit/marts_audit.sql): what failed where, with the values."""

    day: dt.date
    level: str
    site: str | None
    line: str | None
    machine: str | None
    check: str
    detail: str

    @property
    def where(self) -> str:
        """The machine as `line/machine`, or `line <line>`, or `site <site>`."""
        if self.level == "machine":
            return f"{self.line}/{self.machine}"
        return f"line {self.line}" if self.level == "line" else f"site {self.site}"

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.where}: {self.check}: {self.detail}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "day": self.day.isoformat(),
            "level": self.level,
            "site": self.site,
            "line": self.line,
            "machine": self.machine,
            "check": self.check,
            "detail": self.detail,
        }


class MartsAuditError(Exception):
    """The marts built for some days failed the audit and were not published; the published file and gold
    keep their previous numbers. The message's last line names the first problem's day, machine, check
    and values."""

    def __init__(self, problems: Sequence[AuditProblem], days: Sequence[dt.date]):
        self.problems = list(problems)
        self.days = list(days)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        failed_days = sorted({p.day for p in self.problems})
        head = (
            f"marts not published: {len(self.problems)} audit problem(s) on "
            f"{', '.join(d.isoformat() for d in failed_days)}"
            + (f" ({more} more not shown)" if more else "")
            + "; the published marts keep their previous numbers"
        )
        # the first problem comes last, where a one-line summary (the CLI, a log line) picks it up
        super().__init__("\n".join([head, *(str(p) for p in reversed(shown))]))


MAX_PROBLEMS_SHOWN = 20


def audit_marts(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[dt.date],
    sql_dir: Path = SQL_DIR,
    performance_tolerance: float = PERFORMANCE_TOLERANCE,
) -> list[AuditProblem]:
    """The audit's problems in the built marts (and their silver machine states) for the given days.

    An empty list means the days may be published."""
    query = (sql_dir / AUDIT_SQL).read_text(encoding="utf-8")
    rows = con.execute(query, {"days": list(days), "performance_tolerance": performance_tolerance}).fetchall()
    return [AuditProblem(*row) for row in rows]


def audit_published_marts(
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
    sql_dir: Path = SQL_DIR,
) -> list[AuditProblem]:
    """The audit of the published marts (opened read-only) for the given days, against silver as it is now."""
    con = duckdb.connect(str(fetch_published_marts(lakehouse_root, storage_options)), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        register_silver(con, lakehouse_root, _with_neighbours(days), storage_options)
        return audit_marts(con, days, sql_dir)
    finally:
        con.close()


def _discard(building: Path) -> None:
    """Remove a copy built aside that is not to be published (and DuckDB's write-ahead log of it)."""
    building.unlink(missing_ok=True)
    building.with_name(building.name + ".wal").unlink(missing_ok=True)


def storage_version(marts_file: Path) -> str | None:
    """The storage format a DuckDB file was written with (e.g. 'v1.5.0')."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        rows = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
        ).fetchall()
    finally:
        con.close()
    version = rows[0][0] if rows else None
    return version.rstrip("+") if version else None


def publish_all_gold(
    marts_file: Path,
    lakehouse_root: str,
    marts: Sequence[Mart],
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
) -> None:
    """Publish the rebuilt scope of every mart as Delta tables under gold/ (still under the publish lock)."""
    from assets.marts.gold import publish_gold

    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        for mart in marts:
            publish_gold(
                con, lakehouse_root, _checked(mart.name), _SCOPES[mart.scope], {"days": list(days)}, storage_options
            )
    finally:
        con.close()


def _with_neighbours(days: Sequence[dt.date]) -> list[dt.date]:
    one = dt.timedelta(days=1)
    return sorted({d + k * one for d in days for k in (-1, 0, 1)})


def _checked(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"not a mart name: {name!r}")
    return name


def _register_inputs(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date] | None,
    storage_options: dict[str, str] | None,
    sql_dir: Path,
) -> None:
    """Silver (some days or all), the plant's dimensions, and the staging views the marts share."""
    register_silver(con, lakehouse_root, days, storage_options)
    # A stop may span days that neither the days rebuilt nor their neighbours cover (a week-long breakdown
    # rebuilt with the day it ended): downtime_events splits it on the calendar of every day, a few rows each.
    delta.register_table(
        con,
        "silver__plant_calendar_every_day",
        delta.table_uri(lakehouse_root, SILVER_PLANT_CALENDAR.name),
        SILVER_PLANT_CALENDAR,
        storage_options=storage_options,
    )
    _register_dimensions(con, config)
    _register_staging(con, sql_dir)


def _register_dimensions(con: duckdb.DuckDBPyConnection, config: PlantConfig) -> None:
    from assets.silver.modelling import model_tags_table

    # plant__: the plant YAML as the marts read it (the marts dim_machine and dim_shift publish it)
    con.register("plant__machine", dim_machine(config))
    con.register("plant__asset", dim_asset(config))
    con.register("plant__tag", model_tags_table(config))
    con.register("plant__shift", plant_shift(config))
    con.register("plant__site", plant_site(config))


OEE_RATIOS_SQL = Path("staging") / "oee_ratios.sql"


def register_oee_ratios(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """The OEE ratio macros (availability, performance, quality, oee) as temporary macros of the connection:
    never stored in the marts file, and creatable on a read-only connection."""
    con.execute((sql_dir / OEE_RATIOS_SQL).read_text(encoding="utf-8")).fetchall()


def _register_staging(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> None:
    register_oee_ratios(con, sql_dir)
    for view in STAGING:
        query = (sql_dir / "staging" / f"{view}.sql").read_text(encoding="utf-8")
        con.execute(f"create or replace temp view {_checked(view)} as {query}").fetchall()


def _definitions_changed(con: duckdb.DuckDBPyConnection, marts: Sequence[Mart], sql_dir: Path) -> bool:
    """Whether a mart is new to the file, or an existing mart table's columns or their types differ from what
    its SQL now produces (a new mart, or a count that became BIGINT, is then filled for every day)."""
    for mart in marts:
        existing = con.execute(
            "select column_name, data_type from information_schema.columns where table_name = ? "
            "and table_schema = 'main' order by ordinal_position",
            [mart.name],
        ).fetchall()
        if not existing:
            return True
        query = read_sql(mart, sql_dir)
        relation = con.sql(f"select * from ({query}) limit 0", params={"days": []})
        wanted = [(d[0], str(kind)) for d, kind in zip(relation.description, relation.types, strict=True)]
        if [tuple(r) for r in existing] != wanted:
            return True
    return False


_SCOPES = {
    "day": "day in (select unnest($days::date[]))",
    # a dimension of the plant YAML: every row, on every publish (every scope is bound with the days)
    "all": "$days::date[] is not null",
    "week": "week in (select distinct cast(date_trunc('week', d) as date) from (select unnest($days::date[]) as d))",
    "month": "month in (select distinct cast(date_trunc('month', d) as date) from (select unnest($days::date[]) as d))",
    "period": "(period = 'day' and period_start in (select unnest($days::date[]))) or (period = 'week' and "
    "period_start in (select distinct cast(date_trunc('week', d) as date) from (select unnest($days::date[]) as d)))",
}


def _rebuild_mart(con: duckdb.DuckDBPyConnection, mart: Mart, days: list[dt.date], sql_dir: Path) -> int:
    name = _checked(mart.name)
    query = read_sql(mart, sql_dir)
    params = {"days": days}
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = ? and table_schema = 'main'", [name]
    ).fetchall()[0][0]
    if not exists:
        con.execute(f"create table {name} as select * from ({query}) limit 0", params).fetchall()
    scope = _SCOPES[mart.scope]
    con.execute("begin transaction").fetchall()
    con.execute(f"delete from {name} where {scope}", params).fetchall()
    con.execute(f"insert into {name} by name select * from ({query})", params).fetchall()
    con.execute("commit").fetchall()
    _describe(con, mart)
    return int(con.execute(f"select count(*) from {name} where {scope}", params).fetchall()[0][0])


def _describe(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    # COMMENT ON takes no bind parameters; the texts are ours, with quotes doubled.
    name = _checked(mart.name)
    con.execute(f"comment on table {name} is {delta.string_literal(mart.description)}").fetchall()
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_name = ? and table_schema = 'main'",
            [name],
        ).fetchall()
    ]
    for column in columns:
        doc = mart.doc(column)
        if doc:
            con.execute(f'comment on column {name}."{column}" is {delta.string_literal(doc)}').fetchall()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Every mart, in build order, read from sql/marts/*.yml when the module loads: a mart whose YAML and SQL
# disagree stops the code from loading, naming the mart and the column.
MARTS: tuple[Mart, ...] = load_marts()

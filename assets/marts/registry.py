"""The mart registry: every mart as sql/marts/<name>.yml declares it beside its SQL (description, grain,
scope, build order, column docs, audit checks), checked against what the SQL produces, and read once,
when first asked for (`all_marts`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import duckdb
import yaml

from assets.marts.audit import audit_checks
from assets.marts.inputs import (
    SILVER_INPUTS,
    SQL_DIR,
    checked_name,
    register_dimensions,
    register_staging,
)
from assets.marts.lineage import mart_reads
from assets.plant.products import Changeovers
from assets.plant.targets import Targets
from assets.storage.schemas import SILVER_PLANT_CALENDAR

MARTS_DIR = Path("marts")
_MART_KEYS = {"name", "order", "description", "grain", "scope", "columns", "checks", "examples"}
_OPTIONAL_KEYS = {"checks", "examples"}

# The rows a rebuild of some days replaces, per scope, as a SQL condition on $days.
SCOPES = {
    "day": "day in (select unnest($days::date[]))",
    # a dimension of the plant YAML: every row, on every publish (every scope is bound with the days)
    "all": "$days::date[] is not null",
    "week": "week in (select distinct cast(date_trunc('week', d) as date) from (select unnest($days::date[]) as d))",
    "month": "month in (select distinct cast(date_trunc('month', d) as date) from (select unnest($days::date[]) as d))",
    "period": "(period = 'day' and period_start in (select unnest($days::date[]))) or (period = 'week' and "
    "period_start in (select distinct cast(date_trunc('week', d) as date) from (select unnest($days::date[]) as d)))",
}


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
    # (column, DuckDB type) as the SQL produces them, and the silver tables and earlier marts the SQL
    # reads (staging views followed to what they read): filled in when the registry binds the SQL
    column_types: tuple[tuple[str, str], ...] = ()
    reads: tuple[str, ...] = ()

    def doc(self, column: str) -> str | None:
        """The description of one output column."""
        return dict(self.columns).get(column)


class MartDefinitionError(ValueError):
    """A mart's YAML does not match its SQL (a column undocumented or gone, a key missing, ...)."""


@functools.cache
def all_marts() -> tuple[Mart, ...]:
    """Every mart of the product's sql/marts/, in build order. Read and checked on the first call (binding
    every mart's SQL takes a moment, which importing the code does not pay), then kept: a mart whose YAML
    and SQL disagree raises MartDefinitionError before anything is built, naming the mart and the column."""
    return load_marts()


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
    types = _check_columns(marts, sql_dir)
    reads = mart_reads({m.name: read_sql(m, sql_dir) for m in marts}, sql_dir)
    return tuple(dataclasses.replace(m, column_types=types[m.name], reads=reads[m.name]) for m in marts)


def read_sql(mart: Mart, sql_dir: Path = SQL_DIR) -> str:
    return (sql_dir / mart.sql_file).read_text(encoding="utf-8")


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
    if spec["scope"] not in SCOPES:
        raise MartDefinitionError(f"mart {name}: scope {spec['scope']!r} is none of {', '.join(SCOPES)}")
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
        name=checked_name(name),
        sql_file=str(MARTS_DIR / f"{name}.sql"),
        description=spec["description"],
        scope=spec["scope"],
        grain=spec["grain"],
        order=spec["order"],
        columns=tuple(columns.items()),
        checks=checks,
        examples=tuple((e["title"], e["sql"].strip()) for e in examples),
    )


def _check_columns(marts: Sequence[Mart], sql_dir: Path) -> dict[str, tuple[tuple[str, str], ...]]:
    """Bind each mart's SQL over empty inputs (in build order, each mart an empty table for the next) and
    compare its output columns with the columns its YAML documents. Returns each mart's (column, type)."""
    types: dict[str, tuple[tuple[str, str], ...]] = {}
    con = duckdb.connect(":memory:")
    try:
        for spec in SILVER_INPUTS:
            con.register(spec.name, spec.empty())
        con.register("silver__plant_calendar_every_day", SILVER_PLANT_CALENDAR.empty())
        # a plant without machines: the dimension tables empty, with their columns
        calendar = SimpleNamespace(day_start=dt.time(0), working_days=(), shifts=(), breaks=())
        register_dimensions(
            con,
            SimpleNamespace(
                site="",
                timezone="UTC",
                plant=SimpleNamespace(targets=Targets()),
                calendar=calendar,
                lines=(),
                machines=(),
                oee_machines=(),
                products=(),
                changeovers=Changeovers(),
                product_cycle_rows=list,
            ),
        )
        register_staging(con, sql_dir)
        for mart in marts:
            query = read_sql(mart, sql_dir)
            try:
                relation = con.sql(f"select * from ({query}) limit 0", params={"days": []})
                produced = [d[0] for d in relation.description]
                types[mart.name] = tuple((c, str(t)) for c, t in zip(produced, relation.types, strict=True))
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
    return types

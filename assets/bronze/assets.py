"""Bronze assets: landing every new export file into Delta, with its quarantine and file ledger."""

import dagster as dg
import pyarrow as pa

from assets.bronze.landing import land_new_files, settle_seconds
from assets.storage import delta_read
from assets.storage.asset_metadata import OWNERS, delta_definition_metadata, layer_tags, materialized_table
from assets.storage.checks import schema_check_result, schema_check_spec
from assets.storage.failures import no_retry_for_storage_faults
from assets.storage.resource import LakehouseResource
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE, TAG_CATALOG, TableSpec
from assets.storage.validation import ValidationResult

BRONZE_GROUP = "bronze"


class LandingConfig(dg.Config):
    """Which files to land: all new files (the default), or only these paths relative to LANDING_ROOT."""

    files: list[str] = []


def _bronze_spec(spec: TableSpec, description: str) -> dg.AssetSpec:
    """A bronze table as the asset graph shows it: its columns, owner and layer from its one declaration."""
    return dg.AssetSpec(
        spec.name,
        description=description,
        group_name=BRONZE_GROUP,
        kinds={"deltalake"},
        metadata=delta_definition_metadata(spec),
        owners=OWNERS,
        tags=layer_tags(BRONZE_GROUP),
    )


ROW_BALANCE_CHECK = "rows_in_equal_landed_plus_quarantined"
REJECTED_CHECK = "no_file_rejected"


@dg.multi_asset(
    name="land_exports",
    specs=[
        _bronze_spec(
            BRONZE_POINTS,
            "Every historian point, typed, in UTC, with quality and its file and line. "
            "Key: tag + timestamp; a file landed twice never doubles a point.",
        ),
        _bronze_spec(
            QUARANTINE,
            "Rows that could not be landed, with the file, line and reason.",
        ),
        _bronze_spec(
            FILE_LEDGER,
            "One row per file seen: values in (rows_in), data lines in (lines_in), landed (new, "
            "changed, duplicate) and quarantined.",
        ),
        _bronze_spec(
            TAG_CATALOG,
            "Every tag that has landed, mapped by the plant YAML or not: first and last seen, "
            "points, share of bad quality. A starting point for writing the mapping.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            ROW_BALANCE_CHECK,
            asset=FILE_LEDGER.name,
            blocking=True,
            description="For every file landed in this run: rows in (values) = rows landed + rows quarantined.",
        ),
        schema_check_spec(FILE_LEDGER),
        dg.AssetCheckSpec(
            REJECTED_CHECK,
            asset=FILE_LEDGER.name,
            description="No file of this run was rejected as a whole (a warning: the other files still land).",
        ),
        schema_check_spec(
            BRONZE_POINTS,
            description="The points landed in this run match the bronze schema (pandera, checked batch by batch "
            "as they are written).",
        ),
    ],
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
    pool="bronze_landing",
)
def land_exports(context: dg.AssetExecutionContext, lakehouse: LakehouseResource, config: LandingConfig):
    """Land every new file in LANDING_ROOT into bronze; a bad row goes to quarantine, never takes the file down."""
    with no_retry_for_storage_faults(lakehouse.lakehouse_root, lakehouse.lakehouse_root):
        yield from _land_exports(context, lakehouse, config)


def _land_exports(context: dg.AssetExecutionContext, lakehouse: LakehouseResource, config: LandingConfig):
    plant = lakehouse.plant()
    only = set(config.files) if config.files else None
    # the sensor's settle time applies to every landing: a file still being written is left for later
    result = land_new_files(
        lakehouse.lakehouse(), plant, lakehouse.landing_path(), only=only, settle_seconds=settle_seconds()
    )
    for note in result.notes:
        context.log.warning(note)
    for report in result.landed:
        log = context.log.error if report.status == "rejected" else context.log.info
        log(
            f"{report.source_file}: {report.status}, {report.rows_in} values in from {report.lines_in} lines, "
            f"{report.rows_new} new, "
            f"{report.rows_duplicate} duplicate, {report.rows_quarantined} quarantined"
            + (f" ({report.message})" if report.message else "")
        )
    landed = result.landed
    touched = [d.isoformat() for d in result.touched_days(plant)]
    unbalanced = [f.source_file for f in landed if f.rows_in != f.rows_landed + f.rows_quarantined]
    ledger_rows = _ledger_rows(lakehouse, [f.file_key for f in landed])

    totals = {
        "files_landed": len(landed),
        "files_skipped": sum(f.status == "skipped" for f in result.files),
        "files_deferred": len(result.deferred),  # left for a later run: too young, or changed while read
        "files_refused": len(result.refused),  # not read: a link, a hard link, not a regular file
        "files_rejected": sum(f.status == "rejected" for f in landed),
        "files_duplicate": sum(f.status == "duplicate" for f in landed),
        "rows_in": sum(f.rows_in for f in landed),  # values: a point or a quarantined row each
        "lines_in": sum(f.lines_in for f in landed),
        "rows_new": sum(f.rows_new for f in landed),
        "rows_changed": sum(f.rows_changed for f in landed),
        "rows_duplicate": sum(f.rows_duplicate for f in landed),
        "rows_quarantined": sum(f.rows_quarantined for f in landed),
    }
    yield dg.MaterializeResult(
        asset_key=BRONZE_POINTS.name,
        metadata={
            **materialized_table(lakehouse.lakehouse().uri(BRONZE_POINTS.name)),
            **totals,
            "touched_days": dg.MetadataValue.json(touched),
            "files": dg.MetadataValue.md(_files_markdown(landed)),
            "notes": dg.MetadataValue.json(result.notes),
            "rejected_files": dg.MetadataValue.json(
                {f.source_file: f.message or "rejected" for f in landed if f.status == "rejected"}
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE.name,
        metadata={"rows_quarantined": totals["rows_quarantined"]}
        | materialized_table(lakehouse.lakehouse().uri(QUARANTINE.name)),
    )
    yield dg.MaterializeResult(
        asset_key=FILE_LEDGER.name,
        metadata={"files_landed": len(landed)} | materialized_table(lakehouse.lakehouse().uri(FILE_LEDGER.name)),
    )
    yield dg.MaterializeResult(
        asset_key=TAG_CATALOG.name,
        metadata={"tags_with_new_points": sum(f.tag_stats.num_rows for f in landed if f.tag_stats is not None)}
        | materialized_table(lakehouse.lakehouse().uri(TAG_CATALOG.name)),
    )
    yield dg.AssetCheckResult(
        check_name=ROW_BALANCE_CHECK,
        asset_key=FILE_LEDGER.name,
        passed=not unbalanced,
        metadata={"files_checked": len(landed), "unbalanced_files": dg.MetadataValue.json(unbalanced)},
    )
    yield schema_check_result(FILE_LEDGER, ledger_rows)
    rejected = {f.source_file: f.message for f in landed if f.status == "rejected"}
    yield dg.AssetCheckResult(
        check_name=REJECTED_CHECK,
        asset_key=FILE_LEDGER.name,
        passed=not rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rejected_files": dg.MetadataValue.json(rejected)},
    )
    points_validation = ValidationResult()
    for report in landed:
        points_validation.add(report.validation)
    yield schema_check_result(BRONZE_POINTS, points_validation)


def _ledger_rows(lakehouse: LakehouseResource, keys: list[str]) -> pa.Table:
    """The ledger rows of the files landed in this run, read back from the table."""
    uri = lakehouse.lakehouse().uri(FILE_LEDGER.name)
    with delta_read.duckdb_session() as con:
        delta_read.register_table(con, "ledger", uri, FILE_LEDGER, storage_options=lakehouse.storage_options())
        table = con.sql(
            "select * from ledger where file_key in (select unnest($keys::varchar[]))", params={"keys": keys}
        ).to_arrow_table()
    return FILE_LEDGER.conform(table)


def _files_markdown(reports) -> str:
    lines = [
        "| file | status | values in | lines in | new | changed | duplicate | quarantined | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports[:200]:
        lines.append(
            f"| {r.source_file} | {r.status} | {r.rows_in} | {r.lines_in} | {r.rows_new} | {r.rows_changed} | "
            f"{r.rows_duplicate} | {r.rows_quarantined} | {(r.message or '').replace('|', '/')} |"
        )
    return "\n".join(lines)

"""Maintenance asset: the weekly compaction, vacuum and log checkpoint of every Delta table."""

import datetime as dt

import dagster as dg

from assets.storage.maintenance import DEFAULT_RETENTION, MIN_RETENTION, maintain_lakehouse
from assets.storage.resource import LakehouseResource

MAINTENANCE_GROUP = "maintenance"


class MaintenanceConfig(dg.Config):
    """How long files no longer in a table are kept for readers that are still running (days, at least 1)."""

    retention_days: float = DEFAULT_RETENTION.days


def _markdown(rows: list[dict]) -> str:
    lines = [
        "| table | files before | files after | compacted | vacuumed | rows | version | vacuum |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['table']} | {r['files_before']} | {r['files_after']} | {r['files_compacted']} | "
            f"{r['files_vacuumed']} | {r['rows']} | {r['version_before']} → {r['version_after']} | {r['vacuum']} |"
        )
    return "\n".join(lines)


@dg.asset(
    name="maintenance__delta_tables",
    group_name=MAINTENANCE_GROUP,
    kinds={"deltalake"},
    # Compaction rewrites files that landing and partition overwrites also commit to: one writer at a time,
    # and a commit conflict with a writer outside the pool is retried.
    pool="bronze_landing",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=60),
)
def maintenance__delta_tables(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, config: MaintenanceConfig
) -> dg.MaterializeResult:
    """Compact small files, delete files older than the retention that no table version needs, checkpoint the log."""
    retention = dt.timedelta(days=config.retention_days)
    if retention < MIN_RETENTION:
        raise dg.Failure(
            f"retention_days must be at least {MIN_RETENTION.days}, got {config.retention_days}", allow_retries=False
        )
    house = lakehouse.lakehouse()
    results = [r.as_dict() for r in maintain_lakehouse(house.root, retention, house.storage_options)]
    for r in results:
        context.log.info(
            f"{r['table']}: {r['files_before']} → {r['files_after']} files, {r['files_vacuumed']} vacuumed, "
            f"vacuum {r['vacuum']}"
        )
    return dg.MaterializeResult(
        metadata={
            "tables": len(results),
            "retention_days": config.retention_days,
            "files_before": sum(r["files_before"] for r in results),
            "files_after": sum(r["files_after"] for r in results),
            "files_vacuumed": sum(r["files_vacuumed"] for r in results),
            "per_table": dg.MetadataValue.md(_markdown(results)),
            "per_table_json": dg.MetadataValue.json(
                {r["table"]: {k: v for k, v in r.items() if k != "table"} for r in results}
            ),
        }
    )

"""Report assets: the daily HTML report for the plant manager, rendered from the published marts."""

import re

import dagster as dg

from assets.marts.published import fetch_published_marts, marts_uri
from assets.plant.calendar import partition_day
from assets.report.data import DailyReport, load_daily_report
from assets.report.day_states import read_day_states
from assets.report.formats import ratio
from assets.report.page import headline_markdown, write_report
from assets.storage import object_store
from assets.storage.resource import LakehouseResource

REPORT_GROUP = "marts"
REPORTS_DIR = "reports"


def oee_metadata(report: DailyReport) -> dict[str, float]:
    """The day's OEE per line as `oee_<line>` floats, so the Dagster UI plots each line over the partitions.

    Lines whose names reduce to the same key get their area and site in the key; a line without an OEE for
    the day is left out rather than reported as a number it does not have.
    """
    keys = [_slug(line.key[2]) for line in report.lines]
    out: dict[str, float] = {}
    for key, line in zip(keys, report.lines, strict=True):
        if keys.count(key) > 1:
            key = _slug("_".join(line.key))
        value = ratio(line.today.get("oee")) if line.today else None
        if value is not None:
            out[f"oee_{key}"] = value
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower() or "unnamed"


def build_report_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="mart__daily_report",
        partitions_def=partitions_def,
        group_name=REPORT_GROUP,
        kinds={"html"},
        # every mart the report draws
        deps=[
            dg.AssetKey(f"mart__{name}")
            for name in (
                "oee_daily",
                "oee_shift",
                "oee_line_daily",
                "oee_line_shift",
                "downtime_events",
                "downtime_pareto",
                "energy_daily",
                "dim_machine",
                "dim_shift",
                "production_hourly",
                "oee_order",
                "changeovers",
            )
        ],
    )
    def mart__daily_report(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        """Daily HTML report per line (OEE trend, loss waterfall, downtime Pareto, energy per unit) in reports/."""
        day = partition_day(context.partition_key)
        root, options = lakehouse.lakehouse_root, lakehouse.storage_options()
        marts_file = fetch_published_marts(root, options)
        # the day's silver states and breaks: the timeline's running, break and not-scheduled stretches
        report = load_daily_report(marts_file, day, states=read_day_states(root, day, options))
        path = write_report(report, marts_file.parent / REPORTS_DIR)
        location = dg.MetadataValue.path(str(path))
        # a link the UI opens in the browser (a file:// URL on the machine that wrote it)
        opens = dg.MetadataValue.url(path.resolve().as_uri())
        index = dg.MetadataValue.url((path.parent / "index.html").resolve().as_uri())
        published = marts_uri(root)
        if object_store.is_remote(published):
            # beside the published marts: $LAKEHOUSE_ROOT/marts/reports/daily_report_<day>.html
            uri = f"{published.rsplit('/', 1)[0]}/{REPORTS_DIR}/{path.name}"
            object_store.upload(path, uri, options)
            location = opens = dg.MetadataValue.url(uri)
            index_uri = f"{uri.rsplit('/', 1)[0]}/index.html"
            object_store.upload(path.parent / "index.html", index_uri, options)
            index = dg.MetadataValue.url(index_uri)
        if report.missing:
            context.log.warning("daily report %s has gaps: %s", day, "; ".join(report.missing.values()))
        metadata: dict[str, object] = {
            "report": location,
            "open_report": opens,
            "report_path": dg.MetadataValue.path(str(path)),
            "reports_index": index,
            "headline": dg.MetadataValue.md(headline_markdown(report)),
            "lines": len(report.lines),
        }
        metadata |= {k: dg.MetadataValue.float(v) for k, v in oee_metadata(report).items()}
        return dg.MaterializeResult(metadata=metadata)

    return [mart__daily_report]

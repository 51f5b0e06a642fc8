"""The `--help` epilog of each command: examples, and the environment variables it reads."""

from __future__ import annotations

_LAKE = "  LAKEHOUSE_ROOT  the lakehouse: a folder or s3://bucket/prefix (default ./data/lakehouse)\n"
_LANDING = "  LANDING_ROOT    the landing folder, one subfolder per source (default ./data/landing)\n"
_PLANT = "  PLANT_CONFIG    the plant YAML (default: the demo plant's)\n"
_AWS = "  AWS_*           credentials and endpoint of an s3:// lakehouse or landing\n"
_DAGSTER = "  DAGSTER_HOME    the Dagster instance its runs are recorded in (default ./.dagster_home)\n"
_SETTLE = "  LANDING_SETTLE_SECONDS  a file younger than this is left for a later run\n"


def _epilog(examples: list[str], env: str) -> str:
    return "examples:\n" + "".join(f"  {e}\n" for e in examples) + "\nenvironment:\n" + env


EPILOGS = {
    "demo": _epilog(
        ["iiot-lakehouse demo", "iiot-lakehouse demo --days 3 --start 2026-03-02 --format pi_csv"],
        _LANDING + _PLANT,
    ),
    "run": _epilog(
        [
            "iiot-lakehouse run",
            "iiot-lakehouse run --start 2026-03-02 --end 2026-03-06",
            "iiot-lakehouse run --rebuild-all",
        ],
        _LAKE + _LANDING + _PLANT + _DAGSTER + _SETTLE + _AWS,
    ),
    "land": _epilog(
        ["iiot-lakehouse land", "iiot-lakehouse land && iiot-lakehouse quarantine"],
        _LAKE + _LANDING + _PLANT + _DAGSTER + _SETTLE + _AWS,
    ),
    "check-config": _epilog(
        ["iiot-lakehouse check-config", "PLANT_CONFIG=new-plant.yaml iiot-lakehouse check-config"],
        _LAKE + _LANDING + _PLANT + _AWS,
    ),
    "tags": _epilog(
        [
            "iiot-lakehouse tags",
            "iiot-lakehouse tags --unmapped",
            "iiot-lakehouse tags --source historian --like 'L1.%'",
        ],
        _LAKE + _PLANT + _AWS,
    ),
    "quarantine": _epilog(
        [
            "iiot-lakehouse quarantine",
            "iiot-lakehouse quarantine --file historian/History_2026-03-02.csv",
            "iiot-lakehouse quarantine --reason value --limit 20",
        ],
        _LAKE + _AWS,
    ),
    "status": _epilog(
        ["iiot-lakehouse status", "iiot-lakehouse status || echo 'needs attention'"], _LAKE + _PLANT + _AWS
    ),
    "sql": _epilog(
        [
            'iiot-lakehouse sql "select day, machine, oee from oee_daily order by day desc limit 5"',
            'iiot-lakehouse sql --utc "select * from ops.file_ledger limit 3"',
            'echo "select * from ops.quarantine_summary" | iiot-lakehouse sql --format csv',
        ],
        _LAKE + _PLANT + "  (timestamps are shown in the plant's time zone; --utc: in UTC)\n" + _AWS,
    ),
    "marts-download": _epilog(
        ["iiot-lakehouse marts-download /tmp/", "iiot-lakehouse marts-download copy.duckdb"], _LAKE + _AWS
    ),
    "worker": _epilog(
        ["IIOT_EXECUTOR=celery iiot-lakehouse worker --concurrency 2"],
        "  CELERY_BROKER_URL  the broker the steps are queued on\n" + _LAKE + _LANDING + _PLANT + _DAGSTER + _AWS,
    ),
    "doctor": _epilog(
        ["iiot-lakehouse doctor", "iiot-lakehouse doctor --repair"], _LAKE + _LANDING + _PLANT + _DAGSTER + _AWS
    ),
}

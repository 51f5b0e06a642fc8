"""The formats are declared once: each options model (assets/plant/source_formats.py) with one `Format` line
(assets/readers/registry.py); the readers, the landing, the options check and the demo take them from there."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from assets.demo import formats as demo_formats
from assets.plant.source_formats import OPTION_DEFAULTS, OPTIONS
from assets.readers import READERS
from assets.readers.registry import FORMATS, LINE_LIMITED_FORMATS, FormatRegistryError, check_registered

# the formats the product reads, written out by hand so that a format dropped from the registry fails here
EXPECTED = (
    "aveva_historian_csv",
    "pi_csv",
    "pi_webapi_json",
    "ignition_wide_csv",
    "ignition_tall_csv",
    "proficy_csv",
    "sensor_jsonl",
    "sensor_csv",
    "sensor_parquet",
    "orders_csv",
)


def test_every_declared_format_has_one_reader_and_one_demo_writer():
    assert tuple(fmt.name for fmt in FORMATS) == EXPECTED
    assert tuple(OPTIONS) == EXPECTED
    assert len(set(EXPECTED)) == len(FORMATS), "a format is declared twice"
    assert list(READERS) == list(EXPECTED)
    assert list(demo_formats.FORMATS) == list(EXPECTED)
    check_registered("reader", READERS)
    check_registered("demo writer", demo_formats.FORMATS)


def test_the_landing_limits_the_lines_of_the_formats_whose_readers_hold_a_line_whole():
    # the CSV formats; not the JSON document, the JSON lines (own limit) or Parquet (no lines)
    assert LINE_LIMITED_FORMATS == tuple(f for f in EXPECTED if f.endswith("_csv"))


def test_a_declared_format_without_a_reader_fails_naming_it():
    without = [name for name in READERS if name != "proficy_csv"]
    with pytest.raises(FormatRegistryError, match=r"format 'proficy_csv' has no reader"):
        check_registered("reader", without)


def test_a_writer_for_an_undeclared_format_fails_naming_it():
    extra = [*demo_formats.FORMATS, "opc_ua_csv"]
    with pytest.raises(FormatRegistryError, match=r"demo writer for format 'opc_ua_csv'"):
        check_registered("demo writer", extra)


def test_every_option_key_is_a_checked_field():
    # every key a format takes is a field of its pydantic model, which refuses any other key
    for fmt, model in OPTIONS.items():
        assert list(OPTION_DEFAULTS[fmt]) and set(OPTION_DEFAULTS[fmt]) == set(model.model_fields)
        assert model.model_config["extra"] == "forbid"


def _run(script: str) -> subprocess.CompletedProcess:
    # a fresh interpreter, so that the new format is declared before the registry is imported, as a
    # module of the product would be, and the product's own process keeps its nine formats
    env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_new_format_is_picked_up_by_the_options_check_and_fails_at_import_without_its_registry_line():
    result = _run(
        """
        from assets.plant.source_formats import CsvOptions, OPTIONS, validate_source_options
        from assets.plant.source_options import TagColumn

        class OpcUaCsvOptions(CsvOptions):
            FORMAT = "opc_ua_csv"
            tag_column: TagColumn = "NodeId"

        assert list(OPTIONS)[-1] == "opc_ua_csv"
        # the options check knows its keys, defaults and the shared ones, and refuses a misspelt key
        options = validate_source_options("opc_ua_csv", {"delimiter": ";"}, "sources[0].options")
        assert (options["tag_column"], options["delimiter"], options["max_compression_ratio"]) == ("NodeId", ";", 200)
        try:
            validate_source_options("opc_ua_csv", {"tag_colum": "x"}, "sources[0].options")
        except ValueError as exc:
            print("OPTION:", exc)
        import assets.readers
        """
    )
    assert "OPTION: sources[0].options.tag_colum: is not an option of format opc_ua_csv" in result.stdout
    assert "did you mean tag_column?" in result.stdout
    assert result.returncode != 0
    assert "FormatRegistryError: format 'opc_ua_csv' has no Format line in assets/readers/registry.py" in result.stderr


def test_a_new_format_with_its_registry_line_reaches_the_readers_and_the_demo_check():
    result = _run(
        """
        from assets.plant.source_formats import CsvOptions
        from assets.readers import registry
        from assets.readers.registry import Format, check_registered
        from assets.readers.pi_csv import read_pi_csv

        class OpcUaCsvOptions(CsvOptions):
            FORMAT = "opc_ua_csv"

        # the registry line, as it would stand in FORMATS
        registry.FORMATS += (Format(OpcUaCsvOptions, read_pi_csv, line_limited=True),)
        check_registered("Format line", [fmt.name for fmt in registry.FORMATS])
        try:
            import assets.demo.formats
        except Exception as exc:
            print("DEMO:", type(exc).__name__, exc)
        """
    )
    assert result.returncode == 0, result.stderr
    # the demo checks its writers against the declared formats: one without a writer fails naming it
    assert "DEMO: FormatRegistryError format 'opc_ua_csv' has no demo writer" in result.stdout

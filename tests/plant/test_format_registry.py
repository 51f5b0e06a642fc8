"""The formats are declared once (assets/plant/source_options.py FORMATS); the readers and the demo key theirs by it."""

from __future__ import annotations

import pytest

from assets.demo import formats as demo_formats
from assets.plant import source_options
from assets.plant.source_options import FORMATS, OPTION_DEFAULTS, FormatRegistryError, check_registered
from assets.readers import READERS

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
)


def test_every_declared_format_has_one_reader_and_one_demo_writer():
    assert tuple(fmt.name for fmt in FORMATS) == EXPECTED
    assert len(set(EXPECTED)) == len(FORMATS), "a format is declared twice"
    assert list(READERS) == list(EXPECTED)
    assert list(demo_formats.FORMATS) == list(EXPECTED)
    check_registered("reader", READERS)
    check_registered("demo writer", demo_formats.FORMATS)


def test_a_declared_format_without_a_reader_fails_naming_it():
    without = [name for name in READERS if name != "proficy_csv"]
    with pytest.raises(FormatRegistryError, match=r"format 'proficy_csv' has no reader"):
        check_registered("reader", without)


def test_a_writer_for_an_undeclared_format_fails_naming_it():
    extra = [*demo_formats.FORMATS, "opc_ua_csv"]
    with pytest.raises(FormatRegistryError, match=r"demo writer for format 'opc_ua_csv'"):
        check_registered("demo writer", extra)


def test_every_option_key_has_a_check():
    # a key without a check would raise KeyError when a plant sets it, not a clear option error
    keys = {key for defaults in OPTION_DEFAULTS.values() for key in defaults}
    assert keys <= set(source_options._CHECKS), sorted(keys - set(source_options._CHECKS))

"""A benchmark of landing, modelling and querying against DuckDB's own speed and a pandas script."""

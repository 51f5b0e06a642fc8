# The README's commands. Everything installs into .venv from the hashed lock file.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install run test ui lint imports lock clean bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $@

## run: write the demo plant's exports, land them, model them and publish the marts
run: install
	$(VENV)/bin/iiot-lakehouse demo
	$(VENV)/bin/iiot-lakehouse run

## test: the whole suite, on two worker processes (the tests of one file stay together, sharing its servers),
## browser and Celery tests included; as root it installs the Debian packages they need, else it names them
test: install
	bash .ci/system-packages
	$(PY) -m pytest -n 2 --dist loadfile

## ui: the Dagster web UI on http://127.0.0.1:3000
ui: install
	$(PY) -c "from orchestration.cli import ensure_dagster_home; ensure_dagster_home()"
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## bench: speed and memory against DuckDB alone and a pandas script (SCALE=tiny|small|full; see bench/README.md)
SCALE ?= small
bench: install
	$(PY) -m bench.run --scale $(SCALE) $(if $(PEER_PYTHON),--peer-python $(PEER_PYTHON))

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory imports

## imports: the import contract (pyproject.toml [tool.importlinter]): layers import one way, no circles.
## A broken contract prints the imports that break it and fails the build.
imports: install
	$(VENV)/bin/lint-imports

## lock: re-resolve the pinned dependencies into requirements.lock (needs the package registry)
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf data .dagster_home

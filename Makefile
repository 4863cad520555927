# Every target sets up .venv itself: a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test unit lint fmt schema demo bench compose-test clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=77"
	$(PY) -m pip install -q -e '.[dev,postgres]'
	touch $(STAMP)

install: $(STAMP)

# The whole suite: unit, integration (real RabbitMQ, PostgreSQL, the Graph simulator), e2e and
# the console in Debian's Chromium (scripts/browser-prepare.sh installs it where it is missing).
test: $(STAMP)
	bash scripts/ensure-services.sh
	bash scripts/browser-prepare.sh
	$(PY) -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schema: $(STAMP)
	$(VENV)/bin/mailpipe schema --out docs/

# The demo: the Graph simulator, sample mail and the whole pipeline in one process. Needs no
# tenant, no RabbitMQ and no PostgreSQL (docs/embedded.md); DEMO_ARGS="--follow" keeps it open.
demo: $(STAMP)
	$(VENV)/bin/mailpipe demo $(DEMO_ARGS)

# The benchmark on the local RabbitMQ (and PostgreSQL with BENCH_ARGS="--database postgresql");
# docs/performance.md explains the figures.
bench: $(STAMP)
	bash scripts/ensure-services.sh
	$(PY) -m bench $(BENCH_ARGS)

# The real stack through `docker compose` (docs/deployment.md): prepares Docker from Debian's
# packages where it is missing (scripts/docker-prepare.sh), then builds, scales, kills, counts.
compose-test: $(STAMP)
	PY=$(PY) bash scripts/compose-test.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

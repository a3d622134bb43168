# The README's commands. `make serve` starts the gateway (demo mode against the built-in emulator when no
# Cloudflare settings are given); `make test` runs lint, type checks and the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two stamps: serving needs the runtime dependencies only; the test and lint targets add the `dev` extras
# (a venv first made by `make serve` gets them on the first `make test`).
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
LINTED := app tests $(wildcard bench) $(wildcard deploy/*.py)

# `make bench` measures the gateway on an interpreter built as production's is: the Docker image's CPython
# is compiled with PGO and LTO, and so is Debian's and Ubuntu's python3. pyenv's default build is not, and
# costs the gateway ~20% more CPU at concurrency 1 (bench/README.md, "Which Python"). So the bench has its
# own venv, on the system's python3 when that is 3.11+ with venv, else on $(PYTHON); set BENCH_PYTHON to
# choose (after `make clean`, if the bench venv exists). The results name the interpreter that ran.
BENCH_PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo /usr/bin/python3 || echo $(PYTHON))
BENCH_VENV ?= .venv-bench

.PHONY: install serve emulator test test-tools docker-check lint typecheck unit bench bench-ab clean

# A venv ($(2)) on an interpreter ($(1)) with the project installed, and its extras ($(3)) if any.
define make_venv
	test -x $(2)/bin/python || { $(1) -m venv $(2) && $(2)/bin/pip install --quiet --upgrade pip; }
	$(2)/bin/pip install --quiet -e '.$(3)'
	touch $@
endef

$(STAMP): pyproject.toml
	$(call make_venv,$(PYTHON),$(VENV))

$(DEV_STAMP): $(STAMP)
	$(call make_venv,$(PYTHON),$(VENV),[dev])

$(BENCH_VENV)/.installed: pyproject.toml
	$(call make_venv,$(BENCH_PYTHON),$(BENCH_VENV),[dev])

install: $(DEV_STAMP)

serve: $(STAMP)
	$(BIN)/workers-ai-gateway serve

emulator: $(STAMP)
	$(BIN)/workers-ai-gateway emulator

lint: $(DEV_STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest -q tests/unit

# The programs the tests run (redis-server, nginx, chromium, ...: tests/tools.py): installed with apt-get
# when missing and this is root; otherwise the tests that need one are skipped and the run names them.
test-tools: $(DEV_STAMP)
	$(BIN)/python -m tests.tools install

test: lint typecheck test-tools
	$(BIN)/pytest -q

# Whether the Dockerfile builds for linux/amd64 and linux/arm64, without a container engine: which runtime
# dependencies publish no wheel for each, each of those built here from its sdist (deploy/docker_check.py).
# It asks the package index, like `pip install`; the tests never do, so it is not part of `make test`.
docker-check: $(DEV_STAMP)
	$(BIN)/python -u -m deploy.docker_check

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench

# This tree's gateway against REF's, both running in one bench run, every figure old and new in alternating
# order (bench/README.md, "The A/B run"): whether a change costs more than the code it replaces.
REF ?= main
bench-ab: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench.ab $(REF)

# Schemathesis against the gateway's own OpenAPI document, long: FUZZ_EXAMPLES per operation, generation
# mode and run (300: about 6,000 requests). `make test` runs the same file with 15.
FUZZ_EXAMPLES ?= 300
.PHONY: fuzz
fuzz: $(DEV_STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -s -p no:cacheprovider tests/e2e/test_schemathesis.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache

# The README's commands. `make serve` starts the gateway (demo mode against the built-in emulator when no
# Cloudflare settings are given); `make test` runs lint, type checks and the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINTED := app tests $(wildcard bench)

# `make bench` measures the gateway on an interpreter built as production's is: the Docker image's CPython
# is compiled with PGO and LTO, and so is Debian's and Ubuntu's python3. pyenv's default build is not, and
# costs the gateway ~20% more CPU at concurrency 1 (bench/README.md, "Which Python"). So the bench has its
# own venv, on the system's python3 when that is 3.11+ with venv, else on $(PYTHON); set BENCH_PYTHON to
# choose (after `make clean`, if the bench venv exists). The results name the interpreter that ran.
BENCH_PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo /usr/bin/python3 || echo $(PYTHON))
BENCH_VENV ?= .venv-bench

.PHONY: install serve emulator test lint typecheck unit bench clean

# A venv ($(2)) on an interpreter ($(1)) with the project and its dev tools installed.
define make_venv
	$(1) -m venv $(2)
	$(2)/bin/pip install --quiet --upgrade pip
	$(2)/bin/pip install --quiet -e '.[dev]'
	touch $(2)/.installed
endef

$(STAMP): pyproject.toml
	$(call make_venv,$(PYTHON),$(VENV))

$(BENCH_VENV)/.installed: pyproject.toml
	$(call make_venv,$(BENCH_PYTHON),$(BENCH_VENV))

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/workers-ai-gateway serve

emulator: $(STAMP)
	$(BIN)/workers-ai-gateway emulator

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test: lint typecheck
	$(BIN)/pytest -q

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench

# Schemathesis against the gateway's own OpenAPI document, long: FUZZ_EXAMPLES per operation, generation
# mode and run (300: about 6,000 requests). `make test` runs the same file with 15.
FUZZ_EXAMPLES ?= 300
.PHONY: fuzz
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -s -p no:cacheprovider tests/e2e/test_schemathesis.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache

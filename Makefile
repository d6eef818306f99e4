# `make test` and `make demo` work on a fresh clone: they make and fill their own virtual environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MODEL ?=
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_DISABLE_TELEMETRY := 1

LOCK := requirements/lock.txt

.PHONY: venv lock test test-fast test-core demo bench tiny-model clean

venv: $(VENV)/.installed

## the exact, hashed versions of every dependency (all extras, test and bench tools), then this checkout
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	touch $@

## refresh $(LOCK) from pyproject.toml (pip-tools in a venv of its own; torch held by constraints/ci.txt);
## run it with the Python CI uses (3.11): the lock holds that interpreter's wheels
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q 'pip-tools>=7.4,<8'
	.venv-lock/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --extra mt,ct2,llm,flows,s3,review,test,bench -c constraints/ci.txt -o $(LOCK) pyproject.toml

## the whole test suite: unit, property-based and integration tests (real Prefect, S3, Chromium, ffmpeg)
test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

## unit tests only (no servers)
test-fast: venv
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

## the main job on the sample series: zh -> en, es, published to demo-output/
demo: venv
	$(PY) -m flows.demo $(if $(MODEL),--model "$(MODEL)")

## builds a tiny offline Marian model (noise words, real code paths) usable as MODEL=demo-output/tiny-model
tiny-model: venv
	$(PY) -m localise.devtools.tiny_model demo-output/tiny-model

bench: venv
	$(PY) -m benchmarks.run $(BENCH_ARGS)

## the core alone (no extras) on another Python, e.g. make test-core PYTHON=python3.13: a fresh venv
## with `pip install -e .` and pytest, then the tests of the core (tracks, glossary, CLI without extras)
CORE_TESTS ?= tests/test_extras.py tests/test_glossary.py tests/test_io.py tests/test_layout.py tests/formats \
  --ignore=tests/formats/test_ffmpeg.py
test-core:
	rm -rf .venv-core && $(PYTHON) -m venv .venv-core
	.venv-core/bin/python -m pip install -q -e . 'pytest>=8' 'pytest-timeout>=2.3' 'hypothesis>=6.100' 'psutil>=5.9'
	.venv-core/bin/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) $(CORE_TESTS)

clean:
	rm -rf $(VENV) .venv-lock .venv-core demo-output .pytest_cache .hypothesis

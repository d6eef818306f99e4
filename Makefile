# `make test` and `make demo` work on a fresh clone: they make and fill their own virtual environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MODEL ?=
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: venv test test-fast demo bench tiny-model clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints/ci.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints/ci.txt -e '.[test]'
	touch $@

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

clean:
	rm -rf $(VENV) demo-output .pytest_cache .hypothesis

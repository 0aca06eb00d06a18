# Two commands on a fresh machine with Python >= 3.10:
#   make lab   - create .venv, install ecrlab and JupyterLab, open the lessons
#   make test  - create .venv, install ecrlab with its test tools, run every test
# CI runs `.ci/run`, which installs the system tools (skopeo, podman, chromium...) and calls `make test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed

.PHONY: lab test test-fast test-py310 lint notebooks coverage benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00-start-here.ipynb

# Lint, unit, client and browser tests, every notebook executed and compared with its stored outputs,
# then the package on the oldest Python it supports.
test: lint $(STAMP)
	$(BIN)/python -m pytest tests -n 2 --dist worksteal --durations=15
	ECRLAB_PROGRESS=off ECRLAB_DETERMINISTIC=1 $(BIN)/python -m pytest --nbval notebooks --nbval-sanitize-with tests/nbval-sanitize.cfg -p no:cacheprovider -n 2 --dist loadfile
	$(MAKE) test-py310

lint: $(STAMP)
	$(BIN)/ruff check ecrlab tests benchmarks
	$(BIN)/ruff format --check ecrlab tests benchmarks

# requires-python says 3.10: install into a 3.10 venv and run the tests that need no real clients or browser.
# PYTHON310 is found in pyenv or on PATH (one that runs); without one the target says so and fails in CI.
PYTHON310 ?= $(shell for p in $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 2>/dev/null) \
  $$(command -v python3.10); do "$$p" -c "" 2>/dev/null && echo "$$p" && break; done)
VENV310   ?= .venv310
test-py310:
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "no Python 3.10 interpreter found (set PYTHON310=...)"; [ "$$CI" != "true" ]; exit; \
	fi; set -e; \
	[ -x $(VENV310)/bin/python ] || $(PYTHON310) -m venv $(VENV310); \
	$(VENV310)/bin/python -m pip install --quiet --upgrade pip; \
	$(VENV310)/bin/python -m pip install --quiet -c constraints.txt -e . pytest pytest-timeout pytest-xdist hypothesis; \
	$(VENV310)/bin/python -m pytest -q -p no:cacheprovider -n 2 -m "not browser and not realclient" \
	  tests/test_lab.py tests/test_structure.py tests/ecr tests/images tests/lifecycle tests/access

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser and not realclient" -x -q

# Re-execute every lesson in deterministic mode and store its outputs (what nbval compares against).
notebooks: $(STAMP)
	for nb in notebooks/*.ipynb; do \
	  ECRLAB_DETERMINISTIC=1 $(BIN)/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; \
	done

coverage: $(STAMP)
	$(BIN)/python -m ecrlab.coverage

benchmarks: $(STAMP)
	for script in benchmarks/*.py; do $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf $(VENV) $(VENV310) .pytest_cache build *.egg-info

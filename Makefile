# Two commands on a fresh machine with Python >= 3.10:
#   make lab   - create .venv, install ecrlab and JupyterLab, open the lessons
#   make test  - create .venv, install ecrlab with its test tools, run every test
# CI runs `.ci/run`, which installs the system tools (skopeo, podman, chromium...) and calls `make test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed

.PHONY: lab test test-fast notebooks coverage benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00-start-here.ipynb

# Unit, client and browser tests, then every notebook executed and compared with its stored outputs.
test: $(STAMP)
	$(BIN)/python -m pytest tests
	ECRLAB_DETERMINISTIC=1 $(BIN)/python -m pytest --nbval notebooks --nbval-sanitize-with tests/nbval-sanitize.cfg -p no:cacheprovider

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
	rm -rf $(VENV) .pytest_cache build *.egg-info

# fbinit: `make demo` runs the main job on the bundled examples, `make test` runs the checks.
# Both create .venv and install what they need on a machine with python3 and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fbinit-installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PYTHONUNBUFFERED := 1
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test lint docs bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[peers,convex,dist,dev,docs]"
	touch $@

# Headless Chromium renders the HTML report in the tests (Debian packages).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver)

demo: $(STAMP)
	$(BIN)/fbinit analyze --n-filters 40 --kernel-size 1024 --draws 200 --seed 0
	$(BIN)/fbinit report --out build/report --n-filters 40 --kernel-size 1024 --draws 200 --seed 0

test: $(STAMP) browser
	$(BIN)/ruff check src tests analysis benchmarks
	$(BIN)/ruff format --check src tests analysis benchmarks
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --doctest-modules --doctest-glob="*.md" src/fbinit tests docs/quickstart.md docs/energy.md docs/bounds.md
	$(BIN)/mkdocs build --strict --site-dir build/site

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site

# Every benchmarks/bench_*.py with its quick default; each prints ratios measured in one process.
bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do \
	  echo "== $$script"; \
	  OMP_WAIT_POLICY=PASSIVE $(BIN)/python $$script || exit 1; \
	done

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache

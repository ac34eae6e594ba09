# fbinit: `make demo` runs the main job on the bundled examples, `make test` runs the checks.
# Both create .venv and install what they need on a machine with python3 and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fbinit-installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PYTHONUNBUFFERED := 1
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test test-torchaudio lint docs bench bench-quick browser speech clean

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

# espeak-ng renders the benchmark's offline speech (Debian package).
speech:
	@command -v espeak-ng >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq espeak-ng)

demo: $(STAMP) speech
	$(BIN)/fbinit analyze --n-filters 40 --kernel-size 1024 --draws 200 --seed 0
	$(BIN)/fbinit report --out build/report --n-filters 40 --kernel-size 1024 --draws 200 --seed 0
	$(BIN)/fbinit frontends --json build/frontends.json
	$(BIN)/fbinit bench --quick --out build/bench

test: $(STAMP) browser speech
	$(BIN)/ruff check src tests analysis benchmarks
	$(BIN)/ruff format --check src tests analysis benchmarks
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --doctest-modules --doctest-glob="*.md" src/fbinit tests docs/quickstart.md docs/energy.md docs/bounds.md docs/third_party.md \
	  docs/frontends/stft.md docs/frontends/mel.md docs/frontends/wavelet.md \
	  docs/frontends/gammatone.md docs/frontends/multires.md docs/frontends/monitor.md
	$(BIN)/mkdocs build --strict --site-dir build/site

# torchaudio has no wheel that imports beside the CPU torch above: its tests (the torchaudio
# and hybra adapters, fbinit's mel against torchaudio's) run in a second environment, built
# once per machine outside the clone and rebuilt when its requirements change (about 7 GB).
# The tests import fbinit from this clone's src folder.
TORCHAUDIO_VENV ?= $(HOME)/.cache/fbinit/torchaudio-venv
TORCHAUDIO_PINS := torch==2.9.1 torchaudio==2.9.1

test-torchaudio:
	bash .ci/torchaudio-env "$(TORCHAUDIO_VENV)" "$(PYTHON)" "$(TORCHAUDIO_PINS)"
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$(CURDIR)/src \
	  $(TORCHAUDIO_VENV)/bin/python -m pytest -p no:cacheprovider tests/torchaudio

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

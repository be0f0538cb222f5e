# newswire — every target creates the virtual environment if it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-unit check bench eval services-start services-stop clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/newswire run

# Debian's Chromium for the browser tests (tests/browser), installed when missing.
# Playwright drives it; its own browser download does not work on these machines.
CHROMIUM ?= /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium; }

# The whole suite against real Kafka + Elasticsearch, started and stopped here.
test: $(STAMP) chromium
	scripts/services start
	$(BIN)/python -m pytest -q -p no:cacheprovider; status=$$?; scripts/services stop; exit $$status

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration"

check: $(STAMP)
	$(BIN)/ruff check pipeline tests benchmarks evaluation
	$(BIN)/mypy pipeline evaluation

bench: $(STAMP)
	$(BIN)/python -m benchmarks

eval: $(STAMP)
	$(BIN)/python -m evaluation.extraction
	$(BIN)/python -m evaluation.clustering
	$(BIN)/python -m evaluation.feeds

services-start:
	scripts/services start

services-stop:
	scripts/services stop

clean:
	rm -rf data .pytest_cache .mypy_cache .ruff_cache

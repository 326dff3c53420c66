# redlane: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { apt-get update && apt-get install -y python3 python3-venv; }
	@command -v java >/dev/null || { apt-get update && apt-get install -y default-jre-headless; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/redlane db upgrade
	$(BIN)/redlane generate --days 3 --seed 7 --out var/demo --format jsonl,parquet,sector
	REDLANE_PASSENGER_DATA=on $(BIN)/redlane ingest var/demo/messages var/demo/messages/*/
	$(BIN)/redlane ingest var/demo
	$(BIN)/redlane stats
	$(BIN)/redlane target --since 2026-11-04 --out var/selections.csv
	$(BIN)/redlane demo controls --traffic var/demo --out var/results.csv
	$(BIN)/redlane result import var/results.csv
	$(BIN)/redlane report performance --chart var/performance.png
	$(BIN)/redlane worklist --limit 10

lint: install
	$(BIN)/ruff check redlane tests bench
	$(BIN)/ruff format --check redlane tests bench
	$(BIN)/mypy

test: lint
	# the fuzz tests (marker slow) are independent and CPU-bound: two processes share them
	for args in '-m "not slow"' '-m slow -n 2'; do \
	  eval $(BIN)/pytest -q $$args; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests collected ($$args)"; exit 1; fi; \
	  if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/targeting.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/exchange.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache

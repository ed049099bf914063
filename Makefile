# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates its own virtualenv (.venv) on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000
SANDBOX_PORT ?= 8765

.PHONY: demo test test-faults lint architecture typecheck pytest screenshots bench mutate services clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Start the example host with the local Fortnox sandbox (no server needed).
demo: $(STAMP)
	$(PY) -m example_host --port $(PORT) --sandbox-port $(SANDBOX_PORT)

## The whole suite: lint, types, and every test (Redis, PostgreSQL and Chromium included).
test: $(STAMP) services lint architecture typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check aourly_fortnox example_host tests bench

## The layers and rules of docs/architecture.md (import-linter contracts in pyproject.toml).
architecture: $(STAMP)
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -W error -m "not faults"

## The README's screenshots (docs/screenshots/*.png): runs the browser journey
## (tests/browser/test_article_journey.py, part of `make test`) with AOURLY_SCREENSHOTS set,
## so the pictures are what the journey saw: the card in each state, the mapping page, the
## sync log with a failure, the preview and a Swedish page. Needs what `make test` needs.
screenshots: $(STAMP) services
	AOURLY_SCREENSHOTS=docs/screenshots $(PY) -m pytest -W error -q \
		"tests/browser/test_article_journey.py::test_the_article_from_connect_to_disconnect"

## The sync engine's slow fault and load tests (marker `faults`; real workers): SIGKILLs, token
## races, 5xx/429 bursts, Redis lost, PostgreSQL cut, Fortnox down, fairness. Each prints its
## figures (lines starting FAULTS). Measured: 11 minutes (643 s) on 2 shared cores. Sizes:
## AOURLY_FAULTS_ITEMS, _KILLS, _SECONDS, _DB_DOWN, _SCALE (see tests/engine/test_faults_*.py).
test-faults: $(STAMP) services
	$(PY) -m pytest -W error -m faults -s

## Mutation testing of the critical modules, group by group (scripts/mutate: each group's
## modules against its own tests, in .mutate/<group>/); prints the score per module, leaving
## out the survivors judged equivalent in scripts/mutation-equivalents.toml. Not part of
## `make test` (see README for the times). A stopped run resumes; GROUPS="access crypto"
## runs some groups only, `scripts/mutate --rerun-survivors` re-checks survivors after a test.
mutate: $(STAMP) services
	nice -n 10 $(PY) scripts/mutate $(GROUPS)

## Start Redis and PostgreSQL if they are not running (needs root, as on CI).
services:
	@bash scripts/ensure-services

## Benchmarks at Fortnox's real limit, not part of `make test`: the limiter, then the push
## throughput (1,000 + 1,000 invoices for 200 customers, 4 workers, beside a naive pusher),
## the pull's requests (1,200 accounts x 2 years; a voucher pull with nothing new) and the
## pages at 10 to 100,000 sync records (SQL statements, p50/p95 under gunicorn, 20 clients),
## a backfill of 1,000 and 10,000 invoices in one transaction on SQLite and PostgreSQL beside
## the pre-issue-19 code, and fairness (A backfills 5,000 invoices, B's invoice's seconds).
## Each merges its figures into bench/results/latest.json. Measured in one whole run on 2
## shared cores (2026-11-30): 22 min 13 s in all, of which bench.push 936 s, the two limiter
## benches about 1.5 min, bench.pull 1 s, bench.pages 20 s (SQLite file; --postgres for
## PostgreSQL), bench.backfill 193 s, bench.fairness 47 s.
## AOURLY_BENCH_INVOICES / _CUSTOMERS / _SCALE make the push bench smaller or faster;
## AOURLY_BENCH_PAGES_SIZES / _REQUESTS the pages bench; AOURLY_BENCH_BACKFILL_SIZES and
## AOURLY_BENCH_FAIRNESS_BACKFILL the last two.
bench: $(STAMP) services
	$(PY) -m bench.limiter --seconds 30
	$(PY) -m bench.fakeredis_limiter --rounds 10 --redis-url $${AOURLY_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
	$(PY) -m bench.push
	$(PY) -m bench.pull
	$(PY) -m bench.pages
	$(PY) -m bench.backfill
	$(PY) -m bench.fairness

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache mutants

# ProfRoute — the two set-up commands for a fresh machine are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
# axe-core for the browser tests' accessibility checks (tests/browser/), from npm; git-ignored.
AXE := var/npm/node_modules/axe-core/axe.min.js
# The pages' English catalog (app/web/lang.py), compiled from the .po kept in git.
PO := app/translations/en/LC_MESSAGES/messages.po
MO := $(PO:.po=.mo)

.PHONY: help install translations demo test lint bench clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

$(AXE):
	@if command -v npm >/dev/null 2>&1; then npm install --prefix var/npm --no-audit --no-fund --silent axe-core@4 \
	  || echo "axe-core could not be installed: the browser tests will skip their accessibility checks"; \
	else echo "npm is absent: the browser tests will skip their accessibility checks"; fi

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile --statistics -l en -i $(PO) -o $@

install: $(STAMP) $(AXE) $(MO) ## Create .venv and install ProfRoute with its test tools

translations: $(STAMP) ## Extract the pages' Russian texts into the English catalog (then translate the new ones)
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location --sort-output \
	  --project ProfRoute -o var/messages.pot . >/dev/null
	test -f $(PO) || $(BIN)/pybabel init -i var/messages.pot -d app/translations -D messages -l en
	$(BIN)/pybabel update -i var/messages.pot -d app/translations -D messages -l en \
	  --no-fuzzy-matching --ignore-obsolete >/dev/null
	$(MAKE) --no-print-directory $(MO)

demo: $(STAMP) $(MO) ## Run the main job on the embedded Moodle sandbox, then serve http://127.0.0.1:5000
	$(BIN)/profroute demo

test: $(STAMP) $(AXE) $(MO) ## Start PostgreSQL on 127.0.0.1 and run the whole suite (SQLite and PostgreSQL), one worker per CPU
	tests/tools/ensure-packages.sh
	$(BIN)/python -c 'import sys; sys.path.insert(0, "tests/tools"); import lrs; lrs.lrs_python()'
	tests/tools/with-postgres.sh $(BIN)/python -m pytest -n auto
	$(MAKE) --no-print-directory lint

lint: $(STAMP) ## ruff, the import-linter layer contracts and mypy
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy --strict deficits courses tabular xapi lms_connectors
	$(BIN)/mypy app

bench: $(STAMP) ## Run the benchmarks in bench/
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(BIN)/python $$b; done || echo "no benchmarks yet"

clean: ## Remove the virtualenv and local databases
	rm -rf $(VENV) var

# The two commands a newcomer needs: `make run` and `make test`.
# Both set everything up on a fresh Debian/Ubuntu machine first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the test suite starts for real: Redis, PostgreSQL, Chromium and
# cloud-init (whose schema validates our user-data).
APT_PACKAGES := redis-server postgresql chromium chromium-driver cloud-init

.PHONY: run test lint docs venv system-packages clean

$(BIN)/escala: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/escala

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "missing system packages; run: sudo apt-get install -y$$missing"; exit 1; \
	fi

run: venv
	$(BIN)/escala chat serve

test: venv system-packages
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# docs/cli.md is generated from the commands' own help; tests/cli/test_reference.py
# fails when it is stale.
docs: venv
	$(BIN)/python -m escala.cli.reference docs/cli.md

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info

# The two commands a newcomer needs: `make run` and `make test`.
# Both set everything up on a fresh Debian/Ubuntu machine first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the test suite starts for real: Redis, PostgreSQL, Chromium,
# cloud-init (whose schema validates our user-data), etcd (backups are restored into a
# real one), and podman/buildah with runc, mmdebstrap (the base image) and
# docker-registry, which build, run and push the image; libjs-jquery, which the official
# Socket.IO chat demo loads (tests/chat/test_official_pages.py).
APT_PACKAGES := redis-server postgresql chromium chromium-driver cloud-init \
	etcd-server etcd-client podman buildah runc mmdebstrap docker-registry libjs-jquery

.PHONY: run test lint docs venv system-packages clean

# `make run` needs escala alone; `make test` adds the dev tools (pytest, ruff, moto,
# Playwright, ...). Each stamp file records what is installed, so each runs pip once.
# Both install within constraints.txt, the versions the suite last passed with.
$(VENV)/.run-installed: pyproject.toml constraints.txt
	@echo "==> creating $(VENV) and installing escala (what running needs: no dev tools)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check --progress-bar off -c constraints.txt -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml constraints.txt $(VENV)/.run-installed
	@echo "==> installing the dev tools into $(VENV) (pytest, ruff, moto, Playwright, ...)"
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

$(BIN)/escala: $(VENV)/.dev-installed

venv: $(VENV)/.dev-installed

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

run: $(VENV)/.run-installed
	@echo "==> serving the chat: open http://127.0.0.1:3000 (Ctrl-C stops it)"
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
# The pictures too (the cluster diagram, the chat page, a load run), made from the code
# so they stay true; Playwright drives Debian's Chromium for the page.
docs: venv system-packages
	$(BIN)/python -m escala.cli.reference docs/cli.md
	$(BIN)/python -m escala.model.diagram docs/images/cluster.png
	$(BIN)/python docs/pictures.py docs/images

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info

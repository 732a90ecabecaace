# The README's contract: `make run` and `make test` do all their own set-up, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint pytest bench venv clean neovim pdf-tools stress

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

pytest: $(STAMP) neovim pdf-tools
	@echo "==> pytest"
	@$(VENV)/bin/pytest -q

test: lint pytest

# The long variants of the reliability suite: 10,000 fuzzed messages, 20 kernels x 100k
# lines, 1,000 queued executions under interrupts and restarts.
stress: $(STAMP)
	@echo "==> reliability suite, long variants"
	@NBBRIDGE_STRESS=1 NBBRIDGE_FUZZ_EXAMPLES=10000 $(VENV)/bin/pytest -q -s tests/reliability

run: $(STAMP)
	@echo "==> opening examples/tour.ipynb through the bridge"
	@$(PY) -m bridge tour examples/tour.ipynb

bench: $(STAMP)
	@echo "==> benchmarks (each prints rows with ratios against anchors measured in the same run)"
	@for b in bench/bench_*.py; do echo "--- $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# midnn: reproducible figures, tests and benchmarks (docs/notebooks.md).
#
#   make figures               every notebooks/[0-9]*.py with papermill -> build/ (figures drawn
#                              from the stored records in results/, plus small live runs)
#   make figures PROFILE=full  recompute results/ at paper scale (params/full/<name>.yaml) and
#                              write the gallery figures/
#   make gallery               redraw figures/ from results/ (no recomputation)
#   make test                  pair check + pytest (tests/) + nbval (notebooks/*.ipynb)
#
# Variables: PROFILE (quick|full, default quick), NOTEBOOKS (space separated notebooks/*.py to
# run with `make figures` or `make notebooks`), PYTHON (interpreter that creates .venv).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --warn-undefined-variables

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
BUILD := build
PARAMS_DIR := params/full

PROFILE ?= quick
ifeq ($(filter $(PROFILE),quick full),)
$(error PROFILE must be 'quick' or 'full', got '$(PROFILE)')
endif

# Notebook sources: figures runs the numbered ones; sync/notebooks handle every pair
# (helpers named notebooks/_*.py are not notebooks).
NOTEBOOKS ?= $(sort $(wildcard notebooks/[0-9]*.py))
PAIRED := $(sort $(filter-out notebooks/_%,$(wildcard notebooks/*.py)))
# `make notebooks` refreshes every pair unless NOTEBOOKS is given explicitly.
REFRESH := $(if $(filter file,$(origin NOTEBOOKS)),$(PAIRED),$(NOTEBOOKS))
NBVAL_TIMEOUT ?= 600

.PHONY: help setup figures gallery test sync notebooks lint bench clean

help:
	@echo "make setup                 create/refresh .venv (pip -c constraints.txt -e .[test])"
	@echo "make figures [PROFILE=full] run notebooks with papermill -> build/ (full: results/, figures/)"
	@echo "make gallery               redraw figures/ from the stored records in results/"
	@echo "make test                  pair check, pytest tests/, nbval notebooks/*.ipynb"
	@echo "make sync                  jupytext --sync notebooks/*.py"
	@echo "make notebooks             re-execute notebooks/*.ipynb from their .py (stores outputs)"
	@echo "make lint                  ruff check"
	@echo "make bench                 run benchmarks/"
	@echo "make clean                 remove build outputs and caches (not .venv, not figures/)"

# ---------------------------------------------------------------------------------------
# Environment: rebuilt only when pyproject.toml or constraints.txt change.
setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@if [[ ! -x $(BIN)/python ]]; then \
	  echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3
	@touch $@

# ---------------------------------------------------------------------------------------
# Figures: papermill on a jupytext pipe; never writes over notebooks/*.ipynb. The kernel runs
# with MPLBACKEND unset (inline backend), so that build/*.ipynb keep their figures as images.
# The quick profile writes only build/; PROFILE=full writes results/ and figures/ (through
# params/full/<name>.yaml); `make gallery` passes figdir=../figures and live=False.
define run_notebooks
	@mkdir -p $(BUILD)
	@failed=(); total=$$SECONDS; \
	for nb in $(NOTEBOOKS); do \
	  name=$$(basename "$$nb" .py); \
	  params=($(1)); \
	  if [[ "$(2)" == full ]]; then \
	    if [[ -f "$(PARAMS_DIR)/$$name.yaml" ]]; then \
	      params+=(-f "$(PARAMS_DIR)/$$name.yaml"); \
	    else \
	      echo "[figures] $$name: no $(PARAMS_DIR)/$$name.yaml, using the notebook's defaults"; \
	    fi; \
	  fi; \
	  echo "[figures] $$name ($(2)) -> $(BUILD)/$$name.ipynb"; \
	  start=$$SECONDS; \
	  if $(BIN)/jupytext --to ipynb -o - "$$nb" \
	     | env -u MPLBACKEND PYTHONWARNINGS=ignore::UserWarning:papermill.iorw \
	       $(BIN)/papermill - "$(BUILD)/$$name.ipynb" -k python3 --language python \
	         --cwd notebooks --no-progress-bar $${params[@]+"$${params[@]}"}; then \
	    echo "[figures] $$name ok in $$((SECONDS - start)) s"; \
	  else \
	    echo "[figures] $$name FAILED after $$((SECONDS - start)) s (see $(BUILD)/$$name.ipynb)"; \
	    failed+=("$$name"); \
	  fi; \
	done; \
	echo "[figures] total $$((SECONDS - total)) s"; \
	if (( $${#failed[@]} )); then echo "[figures] failed: $${failed[*]}"; exit 1; fi
endef

figures: setup
	$(call run_notebooks,,$(PROFILE))

gallery: setup
	$(call run_notebooks,-p figdir ../figures -p live False,gallery)

# ---------------------------------------------------------------------------------------
# Tests. The main pytest run fails when it collects nothing (exit 5); nbval is skipped
# only when there is no notebooks/*.ipynb yet. nbval runs the kernel with MPLBACKEND unset
# (inline backend), like `make notebooks` that stored the outputs: under Agg a cell ending
# in plt.show() loses its "<Figure ...>" text/plain output and nbval fails.
test: export MPLBACKEND := Agg
test: setup
	$(BIN)/python tools/check_pairs.py notebooks
	$(BIN)/pytest
	@if compgen -G 'notebooks/*.ipynb' > /dev/null; then \
	  echo "$(BIN)/pytest --nbval notebooks ..."; \
	  env -u MPLBACKEND $(BIN)/pytest --nbval notebooks --nbval-current-env \
	    --nbval-cell-timeout $(NBVAL_TIMEOUT) \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider; \
	else \
	  echo "[nbval] no notebooks/*.ipynb yet: skipped"; \
	fi

# ---------------------------------------------------------------------------------------
# Notebook maintenance.
sync: setup
	@if [[ -z "$(strip $(PAIRED))" ]]; then echo "no notebooks/*.py"; exit 0; fi; \
	$(BIN)/jupytext --sync $(PAIRED)

# Re-executes the paired .ipynb (default profile) so stored outputs are fresh for nbval:
# inputs from the .py (cell ids kept), then nbconvert executes the .ipynb in place with
# notebooks/ as cwd. Not `jupytext --update --execute`: jupytext 1.19 then writes back the
# OLD outputs of the existing .ipynb. MPLBACKEND is unset (inline backend) so the stored
# notebooks keep their images, as for nbval. The .py is touched last so that Jupyter does
# not see an .ipynb newer than its source.
notebooks: setup
	@for nb in $(REFRESH); do \
	  echo "[notebooks] $$nb"; start=$$SECONDS; \
	  $(BIN)/jupytext --to ipynb --update "$$nb"; \
	  env -u MPLBACKEND $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=$(NBVAL_TIMEOUT) \
	    --ExecutePreprocessor.record_timing=False "$${nb%.py}.ipynb"; \
	  touch "$$nb"; \
	  echo "[notebooks] $$nb done in $$((SECONDS - start)) s"; \
	done

lint: setup
	$(BIN)/ruff check midnn tests tools benchmarks notebooks

bench: export MPLBACKEND := Agg
bench: setup
	@if [[ -f benchmarks/run_all.py ]]; then \
	  $(BIN)/python benchmarks/run_all.py; \
	else \
	  for b in benchmarks/bench_*.py; do \
	    [[ -e "$$b" ]] || continue; echo "== $$b"; $(BIN)/python "$$b"; \
	  done; \
	fi

clean:
	rm -rf $(BUILD)/* .pytest_cache .ruff_cache
	find midnn tests tools benchmarks notebooks -name __pycache__ -type d -prune \
	  -exec rm -rf {} + 2>/dev/null || true
	find notebooks -name .ipynb_checkpoints -type d -prune -exec rm -rf {} + 2>/dev/null || true

# Two commands do everything: `make lab` (set up and open the notebooks) and
# `make test` (set up and run every test). Both create .venv on first use and are
# quick when nothing changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install lab test unit notebooks translations figures site handouts lint clean

help:
	@echo "make lab        set up .venv and open JupyterLab on notebooks/"
	@echo "make test       set up .venv and run the unit tests and every notebook (nbval)"
	@echo "make figures    regenerate figures/ (the slide figures)"
	@echo "make notebooks  re-execute every notebook, clean it for committing, and build the Korean edition"
	@echo "make translations  merge the English prose into the Korean catalogues (notebooks/ko/po/)"
	@echo "make site       build the reading edition, a website that works offline, into build/site/"
	@echo "make handouts   print each notebook page of build/site/ to build/handouts/NN-name.pdf (Chromium)"
	@echo "make lint       ruff"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# JupyterLab refuses to run as root unless told; containers often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(PY) -m kai_lib.tools.nbtools notes   # each deck's printable speaker notes, build/notes/
	$(VENV)/bin/jupyter lab notebooks/ $(ROOT_FLAG)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile --nbval --nbval-current-env tests notebooks

unit: $(STAMP)
	$(PY) -m pytest -n 2 tests

figures: $(STAMP)
	$(PY) -m kai_lib.figures --out figures

notebooks: $(STAMP)
	$(PY) -m kai_lib.tools.nbtools execute
	$(PY) -m kai_lib.tools.i18n build

# gettext's workflow: extract (new English units untranslated, changed ones fuzzy), translate, build
translations: $(STAMP)
	$(PY) -m kai_lib.tools.i18n extract

site: $(STAMP)
	$(PY) -m kai_lib.tools.site build

handouts: site
	$(PY) -m kai_lib.tools.site handouts

lint: $(STAMP)
	$(VENV)/bin/ruff check kai_lib tests

clean:
	rm -rf $(VENV) build .hypothesis *.egg-info

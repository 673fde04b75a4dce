# The two commands of the README:
#   make book   build the Jupyter Book site offline (smoke mode: every notebook executed, warnings are errors)
#   make test   run the test suite (backend-dependent tests on TensorFlow and on JAX)
#   make lab    open the chapters in JupyterLab (the project's environment, data variables set)
#   make nbval  run every chapter with nbval in the project's environment, comparing the pinned outputs
# Each creates its virtual environment ($(VENV)) the first time.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.srgan-installed

.PHONY: test test-slow book env clean-book lab nbval

env: $(STAMP)

$(STAMP): requirements/dev.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $@

test: $(STAMP)
	PY=$(PY) bash scripts/test.sh

test-slow: $(STAMP)
	SRGAN_SLOW_TESTS=1 PY=$(PY) bash scripts/test.sh

book: $(STAMP)
	PY=$(PY) bash scripts/build_book.sh

nbval: $(STAMP)
	PY=$(PY) bash scripts/nbval.sh

lab: $(STAMP)
	PY=$(PY) bash scripts/lab.sh $(LAB_ARGS)

clean-book:
	rm -rf _build

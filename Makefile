# sipvs.lvs — the two commands are `make lab` and `make test`.
# Everything they need is installed here: Debian packages (scripts/host-deps)
# and a project virtualenv in .venv with the collection importable as sipvs.lvs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(VENV)/bin
PY          := $(BIN)/python
COLLECTIONS := $(VENV)/collections
ANSIBLE_WHEEL := ansible==12.3.0
STAMP       := $(VENV)/.installed
BUILD       := build
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The lab's podman configuration and storage (lab/podman.env) for every target.
export CONTAINERS_CONF := $(CURDIR)/lab/podman/containers.conf
export CONTAINERS_STORAGE_CONF := $(CURDIR)/lab/podman/storage.conf

.PHONY: help deps venv lint sanity unit integration build-check molecule test bench \
        lab lab-up lab-down lab-status test-lab clean

help:
	@echo "make lab    - bring the lab up, converge site.yml, run the SIPp load, report"
	@echo "make test   - lint, sanity, unit, integration, build, Molecule and lab tests"
	@echo "make bench  - benchmarks, JSON in bench/results/"
	@echo "make lab-up | lab-down | lab-status"

deps:
	@scripts/host-deps

venv: $(STAMP)

$(STAMP): requirements/dev.txt requirements/collections.txt scripts/install_collections.py
	@scripts/host-deps
	rm -rf $(VENV)
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/pip download -q --disable-pip-version-check --no-deps -d $(VENV)/wheels '$(ANSIBLE_WHEEL)'
	mkdir -p $(COLLECTIONS)/ansible_collections/sipvs
	$(PY) scripts/install_collections.py $(VENV)/wheels/ansible-*.whl requirements/collections.txt $(COLLECTIONS)
	rm -rf $(VENV)/wheels
	ln -sfn ../../../.. $(COLLECTIONS)/ansible_collections/sipvs/lvs
	touch $@

lint: venv
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint --strict

# ansible-test wants the collection at .../ansible_collections/sipvs/lvs and
# asks git which files exist: sanity runs on a copy of the tracked (and
# untracked, not ignored) files, made its own git repository so that this
# checkout's .gitignore (which ignores build/) does not hide it.
SANITY_DIR := $(BUILD)/sanity/ansible_collections/sipvs/lvs
sanity: venv
	rm -rf $(BUILD)/sanity && mkdir -p $(SANITY_DIR)
	git ls-files -z --cached --others --exclude-standard | \
	  tar --null -T - -cf - | tar -xf - -C $(SANITY_DIR)
	cd $(SANITY_DIR) && git init -q && git add -A && \
	  $(CURDIR)/scripts/ansible-test-offline sanity --venv --python 3.11 --color no

unit: venv
	$(BIN)/pytest tests/unit

# The tests that run ansible-playbook and ansible (on the controller only).
integration: venv
	$(BIN)/pytest tests/integration

build-check: venv
	rm -rf $(BUILD)/artifact && mkdir -p $(BUILD)/artifact/install
	$(BIN)/ansible-galaxy collection build --output-path $(BUILD)/artifact .
	$(BIN)/ansible-galaxy collection install --offline --no-deps --force \
	  -p $(BUILD)/artifact/install $(BUILD)/artifact/sipvs-lvs-*.tar.gz
	$(PY) scripts/check_artifact.py $(BUILD)/artifact --dependencies $(COLLECTIONS)

# Every Molecule scenario that exists runs, side by side (logs in build/molecule/);
# the cluster scenario runs in test-lab.
# The scenarios run on the lab's container images: build them if missing.
molecule: venv deps
	$(PY) -m lab images
	$(PY) scripts/run_molecule.py

# The cluster scenario (molecule/cluster) brings the lab up, converges site.yml,
# checks idempotence, verifies the cluster and its faults, and leaves the lab up
# (Molecule destroys it if a step fails). tests/lab take that lab over, test the
# lab and the modules on its real IPVS, take it down and check the host is as
# lab-up found it: one lab bring-up per run.
test-lab: venv deps
	molecule test -s cluster || { cat lab/out/cluster-verify-failures.txt 2>/dev/null; exit 1; }
	SIPVS_LAB_TAKE_OVER=1 $(BIN)/pytest tests/lab

# The lab's container images (debootstrap: minutes on a new machine) are built in
# the background while the controller-side checks run, those side by side (one
# job a core; each target's output printed whole when it ends); Molecule and the
# lab tests start once both are done.
test: venv deps
	@mkdir -p $(BUILD)
	@echo "lab images: building in the background (log: $(BUILD)/lab-images.log)"
	@$(PY) -m lab images > $(BUILD)/lab-images.log 2>&1 & images=$$!; \
	  checks=0; $(MAKE) --no-print-directory -j$$(nproc) --output-sync=target \
	    lint sanity unit integration build-check || checks=$$?; \
	  wait $$images || { echo "lab images failed:"; cat $(BUILD)/lab-images.log; exit 1; }; \
	  cat $(BUILD)/lab-images.log; exit $$checks
	$(MAKE) --no-print-directory molecule test-lab

bench: venv
	$(PY) -m bench

# lab-up (if needed) -> site.yml -> the tutorial's SIPp load (bounded) -> lab/out/report.{json,png}
lab: venv deps
	$(PY) -m lab.proof

lab-up: venv deps
	$(PY) -m lab up

lab-down lab-status: venv
	$(PY) -m lab $(subst lab-,,$@)

clean:
	rm -rf $(BUILD) .pytest_cache .ruff_cache .hypothesis

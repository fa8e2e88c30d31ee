# hvrt: a thin wrapper around Buildroot for this BR2_EXTERNAL tree.
#
#   make enlightened_defconfig && make    # output/enlightened/images/
#   make emulated_defconfig && make       # output/emulated/images/
#
# Buildroot 2026.02.3 is cloned into buildroot/ (commit verified) unless
# BUILDROOT=/path names a Buildroot tree. Each variant has its own output
# directory, output/<variant>/, bound to the Buildroot tree that configured
# it; `make` and every target not defined here (linux-menuconfig,
# rust-bench-rebuild, ...) go to the variant configured last, or to
# VARIANT=<variant>. `make help` lists the targets.

BUILDROOT_VERSION := 2026.02.3
BUILDROOT_COMMIT := 679b9ead7620bbf193620d1ebf56f53c1764d37a
BUILDROOT_GIT ?= https://gitlab.com/buildroot.org/buildroot.git

TREE := $(patsubst %/,%,$(dir $(realpath $(firstword $(MAKEFILE_LIST)))))
# HVRT_OUTPUT (environment) moves the output directory, as e2e does for its
# own Buildroot builds.
OUTPUT := $(or $(HVRT_OUTPUT),$(TREE)/output)
VARIANTS := $(patsubst %_defconfig,%,$(notdir $(wildcard $(TREE)/configs/*_defconfig)))
VARIANT_FILE := $(OUTPUT)/.variant
VARIANT ?= $(shell cat $(VARIANT_FILE) 2>/dev/null)

ifeq ($(origin BUILDROOT),undefined)
BR_DIR := $(TREE)/buildroot
BR_STAMP := $(BR_DIR)/.hvrt-verified
else
BR_DIR := $(abspath $(BUILDROOT))
BR_STAMP :=
endif

# Downloads are shared by the variants and survive a distclean.
BR2_DL_DIR ?= $(OUTPUT)/dl
export BR2_DL_DIR

br_make = $(MAKE) -C $(BR_DIR) O=$(OUTPUT)/$(1) BR2_EXTERNAL=$(TREE)

# Buildroot leaves a Makefile in the output directory that calls the tree
# it was configured with.
variant_make = $(MAKE) -C $(OUTPUT)/$(VARIANT)

define need_variant
	@if [ -z "$(VARIANT)" ]; then \
		echo "hvrt: no variant configured yet; run one of:" >&2; \
		for v in $(VARIANTS); do echo "  make $${v}_defconfig" >&2; done; \
		exit 2; \
	fi
	@if [ ! -f $(OUTPUT)/$(VARIANT)/.config ]; then \
		echo "hvrt: $(VARIANT) is not configured; run: make $(VARIANT)_defconfig" >&2; \
		exit 2; \
	fi
endef

.DEFAULT_GOAL := all

.PHONY: all help check test e2e rust-test kernel-config-check buildroot-check \
	shellcheck ps-check paper-check

all:
	$(need_variant)
	$(variant_make)

$(addsuffix _defconfig,$(VARIANTS)): %_defconfig: | $(BR_STAMP)
	$(call br_make,$*) $@
	@echo $* > $(VARIANT_FILE)
	@echo "hvrt: $* configured in $(OUTPUT)/$*; now run: make"

$(BR_DIR)/.hvrt-verified:
	@if [ ! -d $(BR_DIR)/.git ]; then \
		rm -rf $(BR_DIR).tmp && \
		git -c advice.detachedHead=false clone --depth 1 --branch $(BUILDROOT_VERSION) \
			$(BUILDROOT_GIT) $(BR_DIR).tmp && \
		mv $(BR_DIR).tmp $(BR_DIR); \
	fi
	@commit=$$(git -C $(BR_DIR) rev-parse HEAD) && \
	if [ "$$commit" != $(BUILDROOT_COMMIT) ]; then \
		echo "hvrt: $(BR_DIR) is at $$commit, not Buildroot" \
			"$(BUILDROOT_VERSION) ($(BUILDROOT_COMMIT));" \
			"remove it, or name a tree with BUILDROOT=" >&2; \
		exit 1; \
	fi
	@touch $@

help:
	@echo "hvrt targets:"
	@for v in $(VARIANTS); do \
		printf '  %-24s %s\n' "$${v}_defconfig" "configure $$v in output/$$v/"; \
	done
	@printf '  %-24s %s\n' \
		all "build the variant configured last ($(or $(VARIANT),none yet))" \
		check "offline checks: shellcheck, ps-check, paper-check, kernel-config-check, buildroot-check" \
		test "everything CI runs: check, e2e, rust-test" \
		rust-test "rust-bench: cargo fmt --check, clippy, cargo test" \
		e2e "end-to-end test: look-alike images from Debian parts, booted in QEMU" \
		"e2e BUILDROOT=..." "the same boot and checks on both images built by that" \
		"" "Buildroot from configs/ (offline; not part of test)" \
		kernel-config-check "resolve each variant's kernel config, fail on dropped lines" \
		buildroot-check "with BUILDROOT=...: defconfigs load intact, check-package is clean" \
		shellcheck "shellcheck every shell script of the tree" \
		ps-check "parse every PowerShell script (scripts/powershell-requirements.txt)" \
		paper-check "the paper's values (rust-bench/data/paper.tsv) are in ../shared/paper.txt" \
		"<target>" "any other target goes to Buildroot for the variant," \
		"" "e.g. linux-menuconfig, rust-bench-rebuild, clean"
	@echo "variables: VARIANT=<variant>, BUILDROOT=<path to a Buildroot tree>"

check: shellcheck ps-check paper-check kernel-config-check buildroot-check

# The whole suite, as CI runs it: the offline checks, the end-to-end boot of
# both images, then rust-bench's own tests, which also pull the results back
# out of the booted images (so they must be there).
test: HVRT_E2E_REQUIRED := 1
test: check e2e rust-test

rust-test:
	cd $(TREE)/rust-bench && cargo fmt --check
	cd $(TREE)/rust-bench && cargo clippy --locked --all-targets -- -D warnings
	cd $(TREE)/rust-bench && HVRT_E2E_REQUIRED=$(HVRT_E2E_REQUIRED) \
		cargo test --locked

# With BUILDROOT=, e2e tests the images that Buildroot builds from the
# defconfigs (scripts/buildroot-offline.sh); `make test` keeps the Debian
# assembly even then.
e2e:
ifeq ($(BR_STAMP)$(filter test,$(MAKECMDGOALS)),)
	BUILDROOT=$(BR_DIR) $(TREE)/scripts/e2e.sh
else
	BUILDROOT= $(TREE)/scripts/e2e.sh
endif

kernel-config-check:
	$(TREE)/scripts/check-kernel-config.sh
	$(TREE)/scripts/test-check-kernel-config.sh

buildroot-check:
ifeq ($(BR_STAMP),)
	$(TREE)/scripts/check-buildroot.sh $(BR_DIR)
else
	@echo "buildroot-check: skipped (set BUILDROOT=/path/to/buildroot-$(BUILDROOT_VERSION))"
endif

shellcheck:
	@cd $(TREE) && scripts/tree-files.sh | while read -r f; do \
		case $$(head -n 1 "$$f" 2>/dev/null) in \
		'#!/bin/sh'* | '#!/bin/bash'* | '#!/usr/bin/env sh'* | '#!/usr/bin/env bash'*) \
			echo "$$f" ;; \
		esac; \
	done | xargs -r shellcheck -x
	@echo "shellcheck: ok"

ps-check:
	python3 $(TREE)/scripts/check-powershell.py
	$(TREE)/scripts/test-check-powershell.sh

paper-check:
	$(TREE)/scripts/check-paper-data.sh
	$(TREE)/scripts/test-check-paper-data.sh

Makefile: ;

%:
	$(need_variant)
	$(variant_make) $@

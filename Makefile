# Portmaster for Linux: top-level build and test entry points.
#
#   make deps      install every Debian package needed (root, idempotent)
#   make module    build kmod/portmaster.ko against KDIR
#   make daemon    build portmasterd and pmctl
#   make check     everything: lint, cmocka, fallback, KUnit, qemu on
#                  Debian 6.1 and 6.12; ends with "N passed, N failed, N skipped"
#   make run       start the firewall in the best mode this machine allows
#   make lint      checkpatch --strict and sparse on kmod/ and the uapi header
#
# Build products go to build/; the KUnit kernel is cached outside the
# checkout (PM_CACHE, default /var/cache/portmaster-dev).

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
RESULTS := $(BUILD)/results
export PM_BUILD := $(BUILD)
export PM_RESULTS := $(RESULTS)

VERSION := $(shell $(TOP)/scripts/version.sh)
export PM_VERSION := $(VERSION)
# Rewritten only when the version changes: what carries the version
# depends on it, so that a rebuild never keeps an old one.
VERSION_STAMP := $(BUILD)/version.stamp
$(shell mkdir -p $(BUILD); [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = "$(VERSION)" ] || echo "$(VERSION)" >$(VERSION_STAMP))

# The kernel to build the module against: KDIR if given, the running
# kernel's build directory if it has one, else the newest Debian headers.
KDIR ?= $(shell $(TOP)/scripts/find-kdir.sh)

.PHONY: all deps module daemon check check-clean lint run clean \
	check-lint check-kunit check-vm check-vm-6.1 check-vm-6.12 \
	check-harness summary

all: module daemon

deps:
	@$(TOP)/scripts/install-deps.sh

module: deps
	@$(TOP)/scripts/build-module.sh "$(KDIR)"

include $(TOP)/tests/tests.mk
-include $(TOP)/daemon/daemon.mk
include $(TOP)/packaging/packaging.mk

clean:
	rm -rf $(BUILD)
	$(MAKE) -C kmod clean >/dev/null 2>&1 || true

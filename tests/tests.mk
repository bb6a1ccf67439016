# Test targets, included by the top-level Makefile.
#
# Every suite prints TAP and is run through scripts/run-suite.sh, which
# keeps it under build/results/; scripts/summary.sh counts them all.
# A stage that cannot even be built records a failing result of its own
# (scripts/check.sh), so nothing is silently missing from the count.

SERIES := 6.1 6.12
# The daemon's suites (cmocka, the fallback on this kernel, fuzzing) come
# from daemon/daemon.mk.
CHECK_STAGES_DAEMON := $(if $(wildcard $(TOP)/daemon/daemon.mk),user host fuzz ui)
CHECK_STAGES = debug-kernels lint $(CHECK_STAGES_DAEMON) $(addprefix kunit-,$(SERIES)) \
	$(addprefix vm-,$(SERIES)) $(addprefix vm-debug-,$(SERIES)) package
# The order make check runs them in; A+B side by side, bg:A in the
# background (scripts/check.sh).  On a fresh machine the debug kernels
# take some 30 minutes of both cores to build: they are built from the
# start, at the lowest priority, with what the stages that do not need
# them leave idle, and KUnit (the first stage that needs them) comes
# after those.
CHECK_PLAN = bg:debug-kernels lint $(CHECK_STAGES_DAEMON) \
	$(subst $(eval) ,+,$(addprefix vm-,$(SERIES))) \
	$(addprefix kunit-,$(SERIES)) \
	$(subst $(eval) ,+,$(addprefix vm-debug-,$(SERIES))) package

CC ?= gcc
TOOL_CFLAGS := -O2 -g -Wall -Wextra -Werror -I$(TOP)/include/uapi
NL_CFLAGS = $(shell pkg-config --cflags libnl-genl-3.0)
NL_LIBS = $(shell pkg-config --libs libnl-genl-3.0)

.PHONY: check $(addprefix check-,$(CHECK_STAGES)) tools debug-kernels soak

check: deps
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	@$(TOP)/scripts/check.sh $(CHECK_PLAN)

tools: $(BUILD)/bin/pm-listener $(BUILD)/bin/pm-nlfuzz

$(BUILD)/bin/pm-%: $(TOP)/tests/tools/pm-%.c $(TOP)/include/uapi/linux/portmaster.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) $(NL_CFLAGS) -o $@ $< $(NL_LIBS)

check-lint:
	@$(TOP)/scripts/run-suite.sh lint $(TOP)/scripts/lint.sh

# The debug kernels (KASAN, lockdep, kmemleak, failslab), one per series,
# for KUnit and the fault tests.
debug-kernels check-debug-kernels:
	@for s in $(SERIES); do $(TOP)/scripts/build-debug-kernel.sh $$s >/dev/null || exit 1; done

define kunit_stage
check-kunit-$(1): tools
	@$(TOP)/scripts/run-suite.sh kunit-$(1) $(TOP)/tests/kunit/run.sh $(1)
endef
$(foreach s,$(SERIES),$(eval $(call kunit_stage,$(s))))

# qemu on each Debian kernel series: the harness's self-test, then every
# tests/vm/t-*.sh in a VM of its own.
define vm_stage
check-vm-$(1): tools
	@k=$$$$($(TOP)/tests/vm/kernels.sh $(1)) && \
	$(TOP)/scripts/build-module.sh /lib/modules/$$$$k/build >/dev/null && \
	$(TOP)/scripts/build-module.sh /lib/modules/$$$$k/build tests/vm/selftest >/dev/null && \
	$(TOP)/scripts/run-suite.sh vm-$(1)-harness $(TOP)/tests/vm/selftest.sh $$$$k && \
	for t in $(TOP)/tests/vm/t-*.sh; do \
		n=$$$$(basename $$$$t .sh); \
		$(TOP)/scripts/run-suite.sh vm-$(1)-$$$${n#t-} $(TOP)/tests/vm/vm-suite.sh $$$$k tests/vm/$$$$n.sh; \
	done
endef
$(foreach s,$(SERIES),$(eval $(call vm_stage,$(s))))

# The debug kernel of each series (KASAN, lockdep, atomic-sleep checks,
# kmemleak, failslab) with the module loaded: the tests that hold,
# re-inject, time out, unload, take input, are attacked and soak (short),
# in one boot each.
VM_DEBUG_TESTS := t-held t-bounds t-unload t-netlink t-attack t-soak
define vm_debug_stage
check-vm-debug-$(1): tools daemon
	@k=$$$$($(TOP)/scripts/build-debug-kernel.sh $(1)) && \
	$(TOP)/scripts/build-module.sh $$$$k >/dev/null && \
	$(TOP)/scripts/run-suite.sh vm-debug-$(1) $(TOP)/tests/vm/vm-suite.sh $$$$k tests/vm/debug.sh \
		-m 2048 -t 2400 -- bash tests/vm/all.sh $(VM_DEBUG_TESTS)
endef
$(foreach s,$(SERIES),$(eval $(call vm_debug_stage,$(s))))

# Not part of make check: the long soak in both debug kernels, side by
# side (500 unload cycles under load, 100 daemon kills, 1,000,000 fuzzed
# netlink messages, then kmemleak; PM_SOAK=CYCLES,KILLS,MESSAGES for
# another size); results under build/results/soak-*.tap.
PM_SOAK ?= full
soak: deps tools daemon
	@for s in $(SERIES); do \
		k=$$($(TOP)/scripts/build-debug-kernel.sh $$s) && \
		$(TOP)/scripts/build-module.sh $$k >/dev/null || exit 1; \
	done; mkdir -p $(RESULTS); \
	for s in $(SERIES); do \
		k=$$($(TOP)/scripts/build-debug-kernel.sh $$s); \
		PM_SOAK=$(PM_SOAK) $(TOP)/scripts/run-suite.sh soak-$$s $(TOP)/tests/vm/vm-suite.sh $$k \
			tests/vm/t-soak.sh -m 2048 -t 28800 >$(RESULTS)/soak-$$s.out 2>&1 & \
	done; wait; cat $(RESULTS)/soak-*.out; \
	cat $(RESULTS)/soak-*.tap | awk '/^not ok/ { f++ } /^ok/ { p++ } \
		END { printf "soak: %d passed, %d failed\n", p, f; exit (f > 0 || p == 0) }'

# Not part of make check: a measurement, to run on an idle machine.
.PHONY: bench-module
bench-module: deps
	@$(TOP)/bench/module.sh $(or $(BENCH_SERIES),6.1) $(or $(BENCH_SECONDS),4) $(or $(BENCH_ROUNDS),5)

# Installing for real: make install, dkms for both kernels, a newcomer's
# path in qemu on each, and everything removed again.
check-package: daemon
	@$(TOP)/scripts/run-suite.sh package $(TOP)/tests/packaging/run.sh

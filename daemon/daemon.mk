# portmasterd and pmctl (included by the top-level Makefile).
#
#   make daemon       build/bin/portmasterd, build/bin/pmctl
#   make check-user   cmocka suites (tests/user)
#   make check-host   the fallback for real on this kernel (tests/host)
#   make check-fuzz   libFuzzer harnesses, a short run each (tests/fuzz)
#   make run          start portmasterd in the foreground, best mode here
#   make bench-fallback  conn/s and throughput vs no firewall and opensnitchd
#   make bench-dns     the resolver's queries/s vs its upstream; blocklist size and speed

PM_CC ?= gcc
PM_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE \
	-I$(TOP)/include/uapi -I$(TOP)/daemon -DPM_VERSION='"$(PM_VERSION)"'
PM_PKGS := libnl-3.0 libnl-genl-3.0 libnetfilter_queue libmnl libnetfilter_conntrack libsystemd \
	ldns gnutls
PM_PKG_CFLAGS = $(shell pkg-config --cflags $(PM_PKGS) 2>/dev/null)
# libunbound's .pc names libevent among its private requirements, which
# need not be installed to link the shared library: no pkg-config for it.
PM_PKG_LIBS = $(shell pkg-config --libs $(PM_PKGS) 2>/dev/null) -lunbound -lpthread

PMD_OBJDIR := $(BUILD)/obj/daemon
PMD_BIN := $(BUILD)/bin

# Everything but main.c, so that tests and fuzzers link the same code.
# One folder per part; objects go to the same folders under PMD_OBJDIR.
PMD_LIB_SRCS := pmd.c config.c common/log.c common/util.c \
	intercept/kmod.c intercept/kmod_msg.c intercept/nfq.c intercept/iptables.c \
	intercept/spawn.c intercept/packet.c intercept/reject.c intercept/ct.c \
	decide/engine.c decide/rules.c decide/criteria.c attrib/attrib.c \
	control/control.c control/ctlcmd.c control/proto.c \
	dns/resolver.c dns/query.c dns/tcp.c dns/policy.c dns/upstream.c dns/wire.c dns/names.c \
	dns/blocklist.c dns/namecache.c dns/dnsconf.c dns/dot.c dns/anscache.c
PMD_LIB_OBJS := $(addprefix $(PMD_OBJDIR)/,$(PMD_LIB_SRCS:.c=.o))
PMCTL_SRCS := pmctl/pmctl.c pmctl/client.c pmctl/output.c pmctl/status.c \
	pmctl/list.c pmctl/verdict.c pmctl/rule.c pmctl/default.c
PMCTL_OBJS := $(addprefix $(PMD_OBJDIR)/,$(PMCTL_SRCS:.c=.o)) \
	$(PMD_OBJDIR)/control/proto.o $(PMD_OBJDIR)/common/util.o
# Every header of every part (pmctl/ included): an edit rebuilds all.
PMD_HDRS := $(wildcard $(TOP)/daemon/*.h $(TOP)/daemon/*/*.h) \
	$(TOP)/include/uapi/linux/portmaster.h

.PHONY: daemon daemon-bins check-user check-host check-fuzz run bench-fallback bench-dns

daemon: deps
	@$(MAKE) --no-print-directory daemon-bins

daemon-bins: $(PMD_BIN)/portmasterd $(PMD_BIN)/pmctl

# Every object carries PM_VERSION on its command line: all rebuild when it changes.
$(PMD_OBJDIR)/%.o: $(TOP)/daemon/%.c $(PMD_HDRS) $(VERSION_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $(subst $(TOP)/,,$<)"
	@$(PM_CC) $(PM_CFLAGS) $(PM_PKG_CFLAGS) -c -o $@ $<

$(PMD_BIN)/portmasterd: $(PMD_OBJDIR)/main.o $(PMD_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $(subst $(TOP)/,,$@)"
	@$(PM_CC) -o $@ $^ $(PM_PKG_LIBS)

$(PMD_BIN)/pmctl: $(PMCTL_OBJS) $(PMD_OBJDIR)/pmctl/main.o
	@mkdir -p $(dir $@)
	@echo "  LINK    $(subst $(TOP)/,,$@)"
	@$(PM_CC) -o $@ $^

-include $(TOP)/tests/user/user.mk
-include $(TOP)/tests/fuzz/fuzz.mk

check-host: daemon
	@$(TOP)/scripts/run-suite.sh host-fallback $(TOP)/tests/host/run.sh $(PMD_BIN)

run: daemon
	@$(TOP)/daemon/run.sh $(PMD_BIN) $(TOP)/config

bench-fallback: daemon
	@$(TOP)/bench/fallback.sh $(BENCH_SECONDS) $(BENCH_ROUNDS)

$(BUILD)/bench/blocklist_bench: $(TOP)/bench/blocklist_bench.c $(TOP)/daemon/dns/blocklist.c \
		$(TOP)/daemon/dns/names.c $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      bench/blocklist_bench"
	@$(PM_CC) $(PM_CFLAGS) -o $@ $(filter %.c,$^)

bench-dns: daemon
	@$(MAKE) --no-print-directory $(BUILD)/bench/blocklist_bench
	@$(TOP)/bench/dns.sh $(BENCH_SECONDS)

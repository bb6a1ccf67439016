# portmasterd and pmctl (included by the top-level Makefile).
#
#   make daemon       build/bin/portmasterd, build/bin/pmctl
#   make check-user   cmocka suites (tests/user)
#   make check-host   the fallback for real on this kernel (tests/host)
#   make check-ui     the web UI in Chromium, notifications, pmctl top (tests/ui)
#   make check-fuzz   libFuzzer harnesses, a short run each (tests/fuzz)
#   make run          start portmasterd in the foreground, best mode here
#   make bench-fallback  conn/s and throughput vs no firewall and opensnitchd
#   make bench-history   bytes per flow, one program's queries in a month of flows
#   make bench-dns     the resolver's queries/s vs its upstream; blocklist size and speed
#   make bench-rules   the decision time per flow at 10, 1,000 and 10,000 rules
#   make bench-report  instructions per report of a flow the module decided itself

PM_CC ?= gcc
PM_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE \
	-I$(TOP)/include/uapi -I$(TOP)/daemon -DPM_VERSION='"$(PM_VERSION)"'
PM_PKGS := libnl-3.0 libnl-genl-3.0 libnetfilter_queue libmnl libnetfilter_conntrack libsystemd \
	sqlite3 json-c ldns gnutls
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
	decide/engine.c decide/rules.c decide/criteria.c decide/netscope.c decide/flow.c decide/rindex.c decide/apps.c attrib/attrib.c attrib/procinfo.c \
	control/control.c control/ctlcmd.c control/proto.c control/ctl_views.c control/ctl_rules.c \
	events/events.c history/store.c history/history.c history/ctacct.c ui/uiproc.c \
	dns/resolver.c dns/query.c dns/tcp.c dns/policy.c dns/upstream.c dns/wire.c dns/names.c \
	dns/blocklist.c dns/namecache.c dns/dnsconf.c dns/dot.c dns/anscache.c
PMD_LIB_OBJS := $(addprefix $(PMD_OBJDIR)/,$(PMD_LIB_SRCS:.c=.o))
PMCTL_SRCS := pmctl/pmctl.c pmctl/client.c pmctl/output.c pmctl/status.c \
	pmctl/list.c pmctl/verdict.c pmctl/rule.c pmctl/default.c pmctl/history.c \
	pmctl/monitor.c pmctl/ui.c pmctl/notify.c pmctl/top.c pmctl/preset.c pmctl/apps.c
PMCTL_OBJS := $(addprefix $(PMD_OBJDIR)/,$(PMCTL_SRCS:.c=.o)) \
	$(PMD_OBJDIR)/control/proto.o $(PMD_OBJDIR)/common/util.o
# Every header of every part (pmctl/ included): an edit rebuilds all.
PMD_HDRS := $(wildcard $(TOP)/daemon/*.h $(TOP)/daemon/*/*.h) \
	$(TOP)/include/uapi/linux/portmaster.h

.PHONY: daemon daemon-bins check-user check-host check-fuzz check-ui run bench-fallback bench-history \
	bench-dns bench-rules bench-report

daemon: deps
	@$(MAKE) --no-print-directory daemon-bins

daemon-bins: $(PMD_BIN)/portmasterd $(PMD_BIN)/pmctl $(PMD_BIN)/portmaster-ui \
	$(PMD_BIN)/portmaster-notify

# Every object carries PM_VERSION on its command line: all rebuild when it changes.
$(PMD_OBJDIR)/%.o: $(TOP)/daemon/%.c $(PMD_HDRS) $(VERSION_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $(subst $(TOP)/,,$<)"
	@$(PM_CC) $(PM_CFLAGS) $(PM_PKG_CFLAGS) -c -o $@ $<

$(PMD_BIN)/portmasterd: $(PMD_OBJDIR)/main.o $(PMD_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $(subst $(TOP)/,,$@)"
	@$(PM_CC) -o $@ $^ $(PM_PKG_LIBS) -lpthread

$(PMD_BIN)/pmctl: $(PMCTL_OBJS) $(PMD_OBJDIR)/pmctl/main.o
	@mkdir -p $(dir $@)
	@echo "  LINK    $(subst $(TOP)/,,$@)"
	@$(PM_CC) -o $@ $^ $(shell pkg-config --libs json-c)

# The web UI's process: libmicrohttpd and json-c, the page compiled in.
UI_PKGS := libmicrohttpd json-c
UI_SRCS := ui/portmaster-ui.c ui/ctlconn.c ui/session.c ui/sse.c
UI_OBJS := $(addprefix $(PMD_OBJDIR)/,$(UI_SRCS:.c=.o)) $(PMD_OBJDIR)/ui/assets.o \
	$(PMD_OBJDIR)/control/proto.o
UI_WWW := $(sort $(wildcard $(TOP)/daemon/ui/www/*))

$(PMD_OBJDIR)/ui/assets.c: $(UI_WWW) $(TOP)/daemon/ui/embed-assets.py
	@mkdir -p $(dir $@)
	@echo "  EMBED   daemon/ui/www"
	@python3 $(TOP)/daemon/ui/embed-assets.py $@ $(UI_WWW)

$(PMD_OBJDIR)/ui/assets.o: $(PMD_OBJDIR)/ui/assets.c $(TOP)/daemon/ui/webui.h
	@$(PM_CC) $(PM_CFLAGS) $(shell pkg-config --cflags $(UI_PKGS)) -c -o $@ $<

$(PMD_OBJDIR)/ui/%.o: PM_PKG_CFLAGS += $(shell pkg-config --cflags $(UI_PKGS))

$(PMD_BIN)/portmaster-ui: $(UI_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $(subst $(TOP)/,,$@)"
	@$(PM_CC) -o $@ $^ $(shell pkg-config --libs $(UI_PKGS)) -lpthread

# pmctl notify's desktop agent: libnotify.
$(PMD_OBJDIR)/notify/%.o: PM_PKG_CFLAGS += $(shell pkg-config --cflags libnotify)

$(PMD_BIN)/portmaster-notify: $(PMD_OBJDIR)/notify/portmaster-notify.o $(PMD_OBJDIR)/control/proto.o
	@mkdir -p $(dir $@)
	@echo "  LINK    $(subst $(TOP)/,,$@)"
	@$(PM_CC) -o $@ $^ $(shell pkg-config --libs libnotify json-c)

-include $(TOP)/tests/user/user.mk
-include $(TOP)/tests/fuzz/fuzz.mk

check-host: daemon
	@$(TOP)/scripts/run-suite.sh host-fallback $(TOP)/tests/host/run.sh $(PMD_BIN)

# The user interfaces as a person uses them: the web UI in Chromium, the
# desktop prompts under Xvfb, pmctl top in tmux.
check-ui: daemon
	@$(TOP)/scripts/run-suite.sh ui-web $(TOP)/tests/ui/run.sh $(PMD_BIN)
	@$(TOP)/scripts/run-suite.sh ui-notify $(TOP)/tests/ui/notify.sh $(PMD_BIN)
	@$(TOP)/scripts/run-suite.sh ui-top $(TOP)/tests/ui/top.sh $(PMD_BIN)

run: daemon
	@$(TOP)/daemon/run.sh $(PMD_BIN) $(TOP)/config

bench-fallback: daemon
	@$(TOP)/bench/fallback.sh $(BENCH_SECONDS) $(BENCH_ROUNDS)

$(PMD_BIN)/history_bench: $(TOP)/bench/history_bench.c $(PMD_OBJDIR)/history/store.o \
		$(PMD_OBJDIR)/decide/flow.o \
		$(PMD_OBJDIR)/common/util.o $(PMD_OBJDIR)/control/proto.o $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      bench/history_bench"
	@$(PM_CC) $(PM_CFLAGS) -o $@ $(filter %.c %.o,$^) -lsqlite3 -ljson-c

bench-history: deps
	@$(MAKE) --no-print-directory $(PMD_BIN)/history_bench
	@$(TOP)/bench/history.sh $(BENCH_HISTORY)

$(BUILD)/bench/blocklist_bench: $(TOP)/bench/blocklist_bench.c $(TOP)/daemon/dns/blocklist.c \
		$(TOP)/daemon/dns/names.c $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      bench/blocklist_bench"
	@$(PM_CC) $(PM_CFLAGS) -o $@ $(filter %.c,$^)

$(BUILD)/bench/rules_bench: $(TOP)/bench/rules_bench.c $(PMD_LIB_OBJS) $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      bench/rules_bench"
	@$(PM_CC) $(PM_CFLAGS) $(PM_PKG_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PM_PKG_LIBS)

$(BUILD)/bench/report_bench: $(TOP)/bench/report_bench.c $(PMD_LIB_OBJS) $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      bench/report_bench"
	@$(PM_CC) $(PM_CFLAGS) $(PM_PKG_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PM_PKG_LIBS)

bench-report: daemon
	@$(MAKE) --no-print-directory $(BUILD)/bench/report_bench
	@$(TOP)/bench/report.sh $(BUILD)/bench/report_bench $(BENCH_REPORTS)

# The index keeps 10,000 rules within 2x of 10 (the last line says).
bench-rules: daemon
	@$(MAKE) --no-print-directory $(BUILD)/bench/rules_bench
	@$(BUILD)/bench/rules_bench $(BENCH_ROUNDS)

bench-dns: daemon
	@$(MAKE) --no-print-directory $(BUILD)/bench/blocklist_bench
	@$(TOP)/bench/dns.sh $(BENCH_SECONDS)

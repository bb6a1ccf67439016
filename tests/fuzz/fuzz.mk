# libFuzzer harnesses (included by daemon/daemon.mk): the rules parser,
# the control protocol, the resolver's message handling and the module's
# flow messages, built with clang and ASan/UBSan, run briefly.

PMF_DIR := $(BUILD)/fuzz
PMF_CC ?= clang
PMF_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -I$(TOP)/include/uapi -I$(TOP)/daemon
PMF_SECONDS ?= 20
PMF_RULES_SRCS := decide/rules.c decide/criteria.c decide/netscope.c decide/flow.c decide/rindex.c common/util.c control/proto.c dns/names.c
PMF_DNS_SRCS := dns/resolver.c dns/query.c dns/tcp.c dns/policy.c dns/upstream.c dns/wire.c dns/names.c \
	dns/blocklist.c dns/namecache.c dns/dnsconf.c dns/dot.c dns/anscache.c
PMF_DNS_LIBS := $(shell pkg-config --libs ldns gnutls 2>/dev/null) -lunbound -lpthread
PMF_CONTROL_SRCS := control/ctlcmd.c control/ctl_rules.c decide/apps.c decide/engine.c decide/rules.c decide/criteria.c decide/netscope.c decide/flow.c decide/rindex.c \
	common/util.c control/proto.c control/ctl_views.c control/control.c config.c common/log.c \
	pmd.c attrib/attrib.c attrib/procinfo.c \
	events/events.c history/store.c history/history.c history/ctacct.c intercept/ct.c ui/uiproc.c \
	$(PMF_DNS_SRCS)
PMF_WIRE_SRCS := dns/wire.c dns/names.c dns/blocklist.c
PMF_KMOD_SRCS := intercept/kmod_msg.c decide/flow.c attrib/attrib.c attrib/procinfo.c common/util.c \
	common/log.c control/proto.c

$(PMF_DIR)/fuzz_rules: $(TOP)/tests/fuzz/fuzz_rules.c $(addprefix $(TOP)/daemon/,$(PMF_RULES_SRCS)) $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CLANG   tests/fuzz/fuzz_rules"
	@$(PMF_CC) $(PMF_CFLAGS) -o $@ $(filter %.c,$^) -ljson-c

$(PMF_DIR)/fuzz_control: $(TOP)/tests/fuzz/fuzz_control.c $(addprefix $(TOP)/daemon/,$(PMF_CONTROL_SRCS)) $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CLANG   tests/fuzz/fuzz_control"
	@$(PMF_CC) $(PMF_CFLAGS) -o $@ $(filter %.c,$^) -lsqlite3 -lmnl -lnetfilter_conntrack -ljson-c $(PMF_DNS_LIBS)

$(PMF_DIR)/fuzz_dns: $(TOP)/tests/fuzz/fuzz_dns.c $(addprefix $(TOP)/daemon/,$(PMF_WIRE_SRCS)) $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CLANG   tests/fuzz/fuzz_dns"
	@$(PMF_CC) $(PMF_CFLAGS) -o $@ $(filter %.c,$^) $(PMF_DNS_LIBS)

$(PMF_DIR)/fuzz_kmod: $(TOP)/tests/fuzz/fuzz_kmod.c $(addprefix $(TOP)/daemon/,$(PMF_KMOD_SRCS)) $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CLANG   tests/fuzz/fuzz_kmod"
	@$(PMF_CC) $(PMF_CFLAGS) -o $@ $(filter %.c,$^) -ljson-c

check-fuzz: deps
	@# Without clang the suite reports a skip; with it, a build error fails.
	@if command -v $(PMF_CC) >/dev/null; then \
		$(MAKE) --no-print-directory $(PMF_DIR)/fuzz_rules $(PMF_DIR)/fuzz_control \
			$(PMF_DIR)/fuzz_dns $(PMF_DIR)/fuzz_kmod; fi
	@$(TOP)/scripts/run-suite.sh fuzz $(TOP)/tests/fuzz/run.sh $(PMF_DIR) $(PMF_SECONDS)

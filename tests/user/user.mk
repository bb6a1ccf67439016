# cmocka suites for the daemon and pmctl (included by daemon/daemon.mk).
# Each suite is one binary printing TAP (CMOCKA_MESSAGE_OUTPUT=TAP).

PMU_SUITES := rules config proto ctlcmd packet attrib engine iptables pmctl kmod_msg history events \
	dns util
PMU_DIR := $(BUILD)/tests/user
PMU_BINS := $(addprefix $(PMU_DIR)/test_,$(PMU_SUITES))

$(PMU_DIR)/test_%: $(TOP)/tests/user/test_%.c $(PMD_LIB_OBJS) $(PMCTL_OBJS) $(PMD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      tests/user/test_$*"
	@$(PM_CC) $(PM_CFLAGS) $(PM_PKG_CFLAGS) -I$(TOP)/daemon/pmctl \
		-DFIXTURES='"$(TOP)/tests/user/fixtures"' -o $@ $< \
		$(PMD_LIB_OBJS) $(filter-out $(PMD_OBJDIR)/control/proto.o $(PMD_OBJDIR)/common/util.o,$(PMCTL_OBJS)) \
		$(PM_PKG_LIBS) -lcmocka

.PHONY: check-user-bins
check-user-bins: $(PMU_BINS)

check-user: daemon
	@$(MAKE) --no-print-directory check-user-bins
	@for s in $(PMU_SUITES); do \
		CMOCKA_MESSAGE_OUTPUT=TAP $(TOP)/scripts/run-suite.sh user-$$s $(PMU_DIR)/test_$$s; \
	done
	@$(TOP)/scripts/run-suite.sh user-completion $(TOP)/tests/user/completion.sh
	@$(TOP)/scripts/run-suite.sh user-docs $(TOP)/tests/user/docs.sh

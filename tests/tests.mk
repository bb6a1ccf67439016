# Test targets (included by the top-level Makefile).
.PHONY: check check-lint check-kunit check-vm check-harness

check: deps
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	@$(TOP)/scripts/summary.sh

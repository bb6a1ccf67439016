# Installing (included by the top-level Makefile).
#
#   make install   [DESTDIR=...] [PREFIX=/usr/local]   binaries, man pages,
#                  completion, default config, systemd unit, sysusers entry,
#                  module source under /usr/src for dkms
#   make uninstall [DESTDIR=...] [PREFIX=...]          exactly what install wrote
#   make dkms-install   build and install the module with dkms for every
#                       kernel with headers here (root)
#   make dkms-remove    remove it again

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: install uninstall dkms-install dkms-remove

install: daemon
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BINDIR="$(BUILD)/bin" VERSION="$(VERSION)" \
		$(TOP)/scripts/install.sh

uninstall:
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" $(TOP)/scripts/uninstall.sh

dkms-install: install
	@$(TOP)/scripts/dkms.sh install "$(VERSION)"

dkms-remove:
	@$(TOP)/scripts/dkms.sh remove "$(VERSION)"

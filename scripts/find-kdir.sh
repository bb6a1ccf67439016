#!/bin/sh
# The kernel build directory to build against when KDIR is not given: the
# running kernel's, if installed, else the newest Debian headers.
run=/lib/modules/$(uname -r)/build
if [ -f "$run/Makefile" ]; then
	echo "$run"
	exit 0
fi
ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1

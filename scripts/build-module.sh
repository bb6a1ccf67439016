#!/bin/sh
# Build portmaster.ko against one kernel, in a copy of the source tree of
# its own (as dkms does), so that several kernels can be built side by
# side.  Fails on any compiler warning at W=1.
# usage: build-module.sh KDIR [SUBDIR]   (SUBDIR: kmod (default) or tests/kunit)
# Prints the path of the built tree (build/kmod/KERNELRELEASE).
# PM_KBUILD_FLAGS adds kbuild flags (lint: C=2 for sparse).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kdir=${1:?usage: build-module.sh KDIR}
sub=${2:-kmod}
[ -f "$kdir/Makefile" ] || { echo "build-module: no kernel build dir at $kdir" >&2; exit 1; }
kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h" 2>/dev/null)
[ -n "$kver" ] || kver=$(make -s -C "$kdir" kernelrelease)
out=$(realpath -m "${PM_BUILD:-$here/build}")/kmod/$kver
mkdir -p "$out"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
	--exclude='.*.cmd' --exclude=Module.symvers --exclude=modules.order \
	"$here/kmod" "$here/include" "$here/tests" "$here/VERSION" "$out/" 2>/dev/null ||
	rsync -a "$here/kmod" "$here/include" "$here/tests" "$out/"
log=$out/build-$(echo "$sub" | tr / -).log
# shellcheck disable=SC2086
if ! make -C "$kdir" M="$out/$sub" W=1 ${PM_KBUILD_FLAGS:-} PM_VERSION="${PM_VERSION:-$("$here/scripts/version.sh")}" \
	modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: $sub failed against $kver" >&2
	exit 1
fi
if grep -E 'warning:|error:' "$log" >&2; then
	echo "build-module: $sub has warnings against $kver (W=1)" >&2
	exit 1
fi
echo "$out"

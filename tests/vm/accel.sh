#!/bin/sh
# Print the qemu accelerator to use: "kvm" only when a probe boot with KVM
# succeeds on this machine (nested or paravirtual KVM often cannot run a
# stock kernel), else "tcg,thread=multi".  PM_ACCEL overrides.  The probe
# result is cached per boot of this machine.
set -u
if [ -n "${PM_ACCEL:-}" ]; then
	echo "$PM_ACCEL"
	exit 0
fi
tcg="tcg,thread=multi"
here=$(cd "$(dirname "$0")" && pwd)
cache=/run/portmaster-dev/accel
if [ -s "$cache" ]; then
	cat "$cache"
	exit 0
fi
mkdir -p /run/portmaster-dev
result=$tcg
if [ -w /dev/kvm ] || [ -r /dev/kvm ]; then
	out=$(mktemp -d)
	if PM_ACCEL=kvm "$here/run-vm.sh" -q -t 40 -o "$out" -- true \
		>/dev/null 2>&1; then
		result=kvm
	fi
	rm -rf "$out"
fi
echo "$result" >"$cache"
echo "$result"

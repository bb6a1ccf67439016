#!/bin/sh
# Build (or find in the cache) the debug kernel for KUnit and fault tests.
# Prints the build directory on stdout.  The cache lives outside the
# checkout, keyed by the config fragment, this script and the source
# version, so it is rebuilt only when one of them changes.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
frag=$here/tests/kunit/kunit.config
src=${PM_KERNEL_SRC:-/usr/src/linux-source-6.1}
cache=${PM_CACHE:-/var/cache/portmaster-dev}

log() { printf 'kunit-kernel: %s\n' "$*" >&2; }

[ -f "$src/Makefile" ] || { log "no kernel source at $src (make deps)"; exit 1; }

srcver=$(make -s -C "$src" kernelversion 2>/dev/null)
key=$(cat "$frag" "$0" | sha256sum | cut -c1-16)
out=$cache/kunit-$srcver-$key

if [ -f "$out/.pm-complete" ]; then
	printf '%s\n' "$out"
	exit 0
fi

log "building $out (about 10-15 minutes on 2 cores)"
mkdir -p "$out"
jobs=$(nproc)
make -s -C "$src" O="$out" defconfig >&2
make -s -C "$src" O="$out" kvm_guest.config >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >&2
make -s -C "$src" O="$out" olddefconfig >&2

# Fail early if the fragment asked for something Kconfig refused.
missing=0
grep '^CONFIG_.*=[ym]$' "$frag" | while IFS= read -r line; do
	grep -qx "$line" "$out/.config" || { log "not applied: $line"; echo x; }
done | grep -q x && missing=1
[ "$missing" = 0 ] || { log "config fragment not fully applied"; exit 1; }

make -s -C "$src" O="$out" -j"$jobs" bzImage modules >&2
touch "$out/.pm-complete"
# Old builds of other keys are only disk: keep the newest two.
ls -dt "$cache"/kunit-* 2>/dev/null | tail -n +3 | xargs -r rm -rf
printf '%s\n' "$out"

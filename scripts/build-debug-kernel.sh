#!/bin/sh
# Build (or find in the cache) the debug kernel of one Debian series, for
# KUnit and the module's fault tests.  Prints the build directory on
# stdout.  The cache lives outside the checkout, keyed by the config
# fragment, this script and the source version, so it is rebuilt only
# when one of them changes.
# usage: build-debug-kernel.sh [6.1|6.12]
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
series=${1:-6.1}
frag=$here/tests/kunit/debug.config
src=/usr/src/linux-source-$series
cache=${PM_CACHE:-/var/cache/portmaster-dev}

log() { printf 'debug-kernel %s: %s\n' "$series" "$*" >&2; }

[ -f "$src/Makefile" ] || { log "no kernel source at $src (make deps)"; exit 1; }

srcver=$(make -s -C "$src" kernelversion 2>/dev/null)
# The key: the fragment and how the kernel is built from it (bump
# BUILD_RECIPE when the commands below change what is built).
BUILD_RECIPE="allnoconfig+fragment; bzImage modules_prepare"
key=$(printf '%s\n' "$BUILD_RECIPE" | cat "$frag" - | sha256sum | cut -c1-16)
out=$cache/debug-$srcver-$key

# Out-of-tree modules link against Module.symvers; 6.12 writes only
# vmlinux.symvers unless in-tree modules are built (this config has none).
finish() {
	[ -f "$out/Module.symvers" ] || cp "$out/vmlinux.symvers" "$out/Module.symvers"
	printf '%s\n' "$out"
}

if [ -f "$out/.pm-complete" ]; then
	finish
	exit 0
fi

# Two builds at once would share one output tree.
mkdir -p "$cache"
exec 9>"$cache/.lock-$series"
flock 9
if [ -f "$out/.pm-complete" ]; then
	finish
	exit 0
fi

log "building $out (a few minutes on 2 cores)"
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
# allnoconfig, then the fragment: only what the test guest needs.
KCONFIG_ALLCONFIG=$frag make -s -C "$src" O="$out" allnoconfig >&2

# Fail early if the fragment asked for something Kconfig refused.
missing=0
grep '^CONFIG_.*=[ym]$' "$frag" | while IFS= read -r line; do
	grep -qx "$line" "$out/.config" || { log "not applied: $line"; echo x; }
done | grep -q x && missing=1
[ "$missing" = 0 ] || { log "config fragment not fully applied"; exit 1; }

make -s -C "$src" O="$out" -j"$(nproc)" bzImage modules_prepare >&2
touch "$out/.pm-complete"
log "built in $(($(date +%s) - start)) s"
# Old builds of this series are only disk: keep the newest two.
ls -dt "$cache"/debug-"$srcver"-* 2>/dev/null | tail -n +3 | xargs -r rm -rf
finish

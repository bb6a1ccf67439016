#!/bin/sh
# Install every Debian package that building, testing and running
# Portmaster need.  Idempotent: when everything is present it only checks
# and exits, so `make check` and `make run` can call it every time.
set -eu

# Packages by purpose.  Keep this the one list: CI and README rely on it.
BUILD="build-essential pkg-config bc bison flex libelf-dev libssl-dev dwarves
	cpio rsync kmod xz-utils zstd python3 perl git"
KERNELS="linux-image-amd64 linux-headers-amd64 linux-source-6.1 linux-source-6.12"
QEMU="qemu-system-x86 busybox-static"
LIBS="libnl-3-dev libnl-genl-3-dev libcmocka-dev libnetfilter-queue-dev
	libmnl-dev libsqlite3-dev libmicrohttpd-dev libjson-c-dev libnotify-dev
	libunbound-dev libldns-dev libnetfilter-conntrack-dev libsystemd-dev"
# The resolver's tests and benchmark: real DNS servers and a load generator.
DNS="dnsmasq-base unbound dnsutils dnsperf openssl"
NET="iptables nftables conntrack iproute2 iperf3 socat curl iputils-ping
	netcat-openbsd procps psmisc opensnitch bc"
TOOLS="sparse dkms clang libclang-rt-14-dev systemd man-db bash-completion sqlite3"
# The user interfaces tested as a person uses them: a browser (driven by
# playwright-core from npm, tests/ui/), a desktop with a notification
# daemon, a terminal.
UI="chromium xvfb dunst libnotify-bin dbus-daemon dbus-bin tmux nodejs"
# Debian's nodejs needs its npm package; a nodejs that bundles npm (as
# some machines have) conflicts with it.
command -v npm >/dev/null || UI="$UI npm"

log() { printf 'deps: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	log "must run as root (installs Debian packages with apt-get)"
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || printf '%s\n' "$p"
	done
}

# The 6.12 series from bookworm: the newest linux-image-6.12.*+deb12-amd64.
# Once one is installed we keep it rather than chase every point release.
newest_612() {
	dpkg-query -W -f='${Package} ${Status}\n' 'linux-image-6.12.*+deb12-amd64' \
		2>/dev/null | awk '/install ok installed/ {print $1}' |
		sed 's/^linux-image-//' | sort -V | tail -n 1
}

updated=0
apt_update() {
	[ "$updated" = 1 ] && return 0
	log "apt-get update"
	apt-get update -qq
	updated=1
}

kver612=$(newest_612)
if [ -z "$kver612" ]; then
	apt_update
	kver612=$(apt-cache search --names-only \
		'^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
		awk '{print $1}' | sed 's/^linux-image-//' | sort -V | tail -n 1)
	if [ -z "$kver612" ]; then
		log "no linux-image-6.12.*+deb12-amd64 in the apt sources"
		exit 1
	fi
fi

# shellcheck disable=SC2086
want=$(missing $BUILD $KERNELS $QEMU $LIBS $DNS $NET $TOOLS $UI \
	"linux-image-$kver612" "linux-headers-$kver612")

# unbound is only a test server (tests/host, bench/): it must never start
# as the machine's resolver, neither now from its postinst nor at boot.
mask_unbound() {
	mkdir -p /etc/systemd/system
	[ -e /etc/systemd/system/unbound.service ] ||
		ln -s /dev/null /etc/systemd/system/unbound.service
	[ -e /etc/systemd/system/unbound-resolvconf.service ] ||
		ln -s /dev/null /etc/systemd/system/unbound-resolvconf.service
	if [ -x /etc/init.d/unbound ] && command -v update-rc.d >/dev/null; then
		update-rc.d unbound disable >/dev/null 2>&1 || true
	fi
}

if [ -n "$want" ]; then
	apt_update
	log "installing: $(echo $want)"
	mask_unbound
	# No service starts during this install (policy-rc.d, see
	# invoke-rc.d(8)), unless the machine already has a policy.
	policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy=/usr/sbin/policy-rc.d
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $want >/dev/null || {
		[ -n "$policy" ] && rm -f "$policy"; exit 1; }
	[ -n "$policy" ] && rm -f "$policy"
fi
mask_unbound

# opensnitch is only a peer to measure against (bench/): its service must
# not run, nor filter this machine's traffic.
if dpkg-query -W -f='${Status}' opensnitch 2>/dev/null | grep -q 'ok installed'; then
	systemctl mask opensnitch.service >/dev/null 2>&1 || true
	systemctl stop opensnitch.service >/dev/null 2>&1 || true
fi

# The portmaster group owns the control socket (see portmasterd(8)).
getent group portmaster >/dev/null || groupadd --system portmaster

# The source trees for the debug kernels (one per series) and checkpatch.pl.
for series in 6.1 6.12; do
	src=/usr/src/linux-source-$series
	[ -f "$src/Makefile" ] && continue
	tarball=/usr/src/linux-source-$series.tar.xz
	if [ ! -f "$tarball" ]; then
		log "linux-source-$series is installed but its tarball is missing"
		exit 1
	fi
	log "unpacking $tarball"
	rm -rf "$src.tmp" && mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xJf "$tarball"
	mv "$src.tmp/linux-source-$series" "$src"
	rmdir "$src.tmp"
done
exit 0

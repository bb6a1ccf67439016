#!/bin/sh
# Install portmasterd, pmctl, their man pages and bash completion, the
# default configuration (never over an existing one), the systemd unit,
# the sysusers entry for the portmaster group, and the module's source for
# dkms.  Every file written is listed in a manifest, which
# scripts/uninstall.sh reads back to remove exactly those files.
# usage: install.sh   (environment: DESTDIR, PREFIX, BINDIR of the build, VERSION)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${PREFIX:=/usr/local}" "${DESTDIR:=}" "${BINDIR:=$here/build/bin}"
: "${VERSION:=$("$here/scripts/version.sh")}"
sbindir=$PREFIX/sbin
bindir=$PREFIX/bin
mandir=$PREFIX/share/man/man8
compdir=$PREFIX/share/bash-completion/completions
unitdir=$PREFIX/lib/systemd/system
sysusersdir=$PREFIX/lib/sysusers.d
datadir=$PREFIX/share/portmaster
srcdir=/usr/src/portmaster-$VERSION
confdir=/etc/portmaster
manifest=$DESTDIR$datadir/installed-files

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

put() {	# MODE SRC DEST
	install -D -m "$1" "$2" "$DESTDIR$3"
	echo "$3" >>"$tmp"
}

for b in portmasterd pmctl portmaster-ui portmaster-notify; do
	[ -x "$BINDIR/$b" ] || { echo "install: $BINDIR/$b is missing (make daemon)" >&2; exit 1; }
done
put 0755 "$BINDIR/portmasterd" "$sbindir/portmasterd"
put 0755 "$BINDIR/pmctl" "$bindir/pmctl"
# Each beside the program that runs it: the daemon starts the web UI's
# process, pmctl notify is the desktop agent.  The page is compiled in.
put 0755 "$BINDIR/portmaster-ui" "$sbindir/portmaster-ui"
put 0755 "$BINDIR/portmaster-notify" "$bindir/portmaster-notify"
put 0644 "$here/man/portmasterd.8" "$mandir/portmasterd.8"
put 0644 "$here/man/pmctl.8" "$mandir/pmctl.8"
put 0644 "$here/completion/pmctl" "$compdir/pmctl"
put 0644 "$here/completion/portmasterd" "$compdir/portmasterd"
sed "s|@SBINDIR@|$sbindir|g" "$here/packaging/portmasterd.service.in" >"$tmp.unit"
put 0644 "$tmp.unit" "$unitdir/portmasterd.service"
rm -f "$tmp.unit"
put 0644 "$here/packaging/portmaster.sysusers" "$sysusersdir/portmaster.conf"
# Desktop prompts: XDG autostart for every graphical session (it ends at
# once for users outside group portmaster), or the user unit instead.
sed "s|@BINDIR@|$bindir|g" "$here/packaging/portmaster-notify.service.in" >"$tmp.unit"
put 0644 "$tmp.unit" "$PREFIX/lib/systemd/user/portmaster-notify.service"
sed "s|@BINDIR@|$bindir|g" "$here/packaging/portmaster-notify.desktop.in" >"$tmp.unit"
put 0644 "$tmp.unit" "/etc/xdg/autostart/portmaster-notify.desktop"
rm -f "$tmp.unit"
# shipped, not active: see portmasterd(8), RESOLVER
put 0644 "$here/packaging/resolved-portmaster.conf" "$datadir/resolved-portmaster.conf"

# The configuration is the user's once it exists: never overwritten.
for f in portmasterd.conf rules.conf doh-endpoints.txt; do
	if [ -e "$DESTDIR$confdir/$f" ]; then
		echo "install: keeping the existing $confdir/$f"
	else
		put 0644 "$here/config/$f" "$confdir/$f"
	fi
done

# Shipped presets: ours, replaced on update, off until enabled
# ("pmctl preset enable system").
mkdir -p "$DESTDIR$confdir/rules.d"
put 0644 "$here/config/rules.d/10-system.conf" "$confdir/rules.d/10-system.conf"

# The module's source, as dkms builds it: the same version as the binaries.
rm -rf "$DESTDIR$srcdir.tmp"
mkdir -p "$DESTDIR$srcdir.tmp/include/uapi/linux"
cp -r "$here/kmod" "$DESTDIR$srcdir.tmp/kmod"
cp "$here/include/uapi/linux/portmaster.h" "$DESTDIR$srcdir.tmp/include/uapi/linux/"
echo "$VERSION" >"$DESTDIR$srcdir.tmp/VERSION"
sed "s|^PACKAGE_VERSION=.*|PACKAGE_VERSION=\"$VERSION\"|" "$here/dkms.conf" >"$DESTDIR$srcdir.tmp/dkms.conf"
find "$DESTDIR$srcdir.tmp" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \) -delete
rm -rf "$DESTDIR$srcdir"
mv "$DESTDIR$srcdir.tmp" "$DESTDIR$srcdir"
(cd "$DESTDIR$srcdir" && find . -type f | sed "s|^\.|$srcdir|") >>"$tmp"

# The group now, on a live system; a package's systemd-sysusers does it too.
if [ -z "$DESTDIR" ] && ! getent group portmaster >/dev/null; then
	groupadd --system portmaster
fi
if [ -z "$DESTDIR" ] && ! getent passwd portmaster-ui >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		--user-group portmaster-ui
fi
if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null &&
	[ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi

echo "$datadir/installed-files" >>"$tmp"
mkdir -p "$(dirname "$manifest")"
sort -u "$tmp" >"$manifest"
echo "installed portmaster $VERSION under ${DESTDIR:-/}$PREFIX ($(wc -l <"$manifest") files; manifest $datadir/installed-files)"

#!/bin/sh
# Remove exactly what scripts/install.sh installed, from its manifest.  A
# configuration file that was changed since is kept, and said so.
# usage: uninstall.sh   (environment: DESTDIR, PREFIX)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${PREFIX:=/usr/local}" "${DESTDIR:=}"
manifest=$DESTDIR$PREFIX/share/portmaster/installed-files
[ -f "$manifest" ] || { echo "uninstall: nothing installed under ${DESTDIR:-/}$PREFIX (no $manifest)" >&2; exit 1; }
files=$(cat "$manifest")	# the manifest itself is among them

while IFS= read -r f; do
	case $f in
	/etc/portmaster/*)
		orig=$here/config/$(basename "$f")
		if [ -f "$orig" ] && ! cmp -s "$orig" "$DESTDIR$f"; then
			echo "uninstall: keeping $f (changed since it was installed)"
			continue
		fi
		;;
	esac
	rm -f "$DESTDIR$f"
done <<EOF
$files
EOF
# The directories the install made, when they are left empty.
while IFS= read -r f; do
	d=$(dirname "$f")
	while [ "$d" != / ] && [ "$d" != "$PREFIX" ] && rmdir "$DESTDIR$d" 2>/dev/null; do
		d=$(dirname "$d")
	done
done <<EOF
$files
EOF
echo "uninstalled portmaster from ${DESTDIR:-/}$PREFIX"

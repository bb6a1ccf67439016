#!/bin/sh
# dkms for portmaster: add the installed source (/usr/src/portmaster-V),
# build and install it for every kernel that has its headers here, or
# remove it from all of them.
# usage: dkms.sh install|remove VERSION [KVER...]
set -eu
action=$1
version=$2
shift 2
kvers=$*
if [ -z "$kvers" ]; then
	for d in /lib/modules/*/build; do
		[ -f "$d/Makefile" ] && kvers="$kvers $(basename "$(dirname "$d")")"
	done
fi
case $action in
install)
	[ -f "/usr/src/portmaster-$version/dkms.conf" ] ||
		{ echo "dkms: /usr/src/portmaster-$version is missing (make install)" >&2; exit 1; }
	# a previous add of the same version is replaced
	dkms status -m portmaster -v "$version" 2>/dev/null | grep -q . &&
		dkms remove -m portmaster -v "$version" --all >/dev/null
	dkms add -m portmaster -v "$version"
	for k in $kvers; do
		dkms build -m portmaster -v "$version" -k "$k"
		dkms install -m portmaster -v "$version" -k "$k" --force
	done
	;;
remove)
	dkms status -m portmaster -v "$version" 2>/dev/null | grep -q . &&
		dkms remove -m portmaster -v "$version" --all
	;;
*)
	echo "usage: dkms.sh install|remove VERSION [KVER...]" >&2
	exit 2
	;;
esac

#!/bin/sh
# Print the installed Debian kernel release of a series (6.1 or 6.12),
# the newest one when several are installed.
# usage: kernels.sh SERIES
set -u
series=${1:?usage: kernels.sh 6.1|6.12}
for d in /lib/modules/"$series".*; do
	[ -f "$d/modules.dep" ] && [ -r "/boot/vmlinuz-${d##*/}" ] && echo "${d##*/}"
done | grep -v -- '-pmdebug' | sort -V | tail -n 1 | grep . ||
	{ echo "kernels: no Debian $series kernel installed (make deps)" >&2; exit 1; }

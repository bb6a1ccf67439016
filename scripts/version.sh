#!/bin/sh
# One version for the module, the daemon and pmctl.  From git when this is
# a checkout (VERSION, plus the commit when it is not the tagged release),
# else the VERSION file of a source tarball.
here=$(cd "$(dirname "$0")/.." && pwd)
base=$(cat "$here/VERSION" 2>/dev/null || echo 0.0.0)
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
	desc=$(git -C "$here" describe --tags --match 'v[0-9]*' --dirty 2>/dev/null)
	if [ -n "$desc" ]; then
		echo "${desc#v}"
		exit 0
	fi
	n=$(git -C "$here" rev-list --count HEAD 2>/dev/null || echo 0)
	h=$(git -C "$here" rev-parse --short=8 HEAD 2>/dev/null || echo unknown)
	dirty=$(git -C "$here" diff --quiet HEAD -- 2>/dev/null || echo .dirty)
	echo "$base+git$n.$h$dirty"
	exit 0
fi
echo "$base"

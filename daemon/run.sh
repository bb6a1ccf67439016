#!/bin/bash
# make run: start portmasterd in the foreground in the best mode this
# machine allows, with a configuration that keeps it usable (default
# allow).  Ctrl-C stops it and removes every rule it installed.
# usage: run.sh BINDIR CONFIG-TEMPLATE-DIR
set -eu
bin=$1
template=$2
etc=${PM_ETC:-/etc/portmaster}

if [ "$(id -u)" != 0 ]; then
	echo "make run: portmasterd needs root (it installs firewall rules)" >&2
	exit 1
fi
# Install what is missing, never overwrite what the user has.
mkdir -p "$etc"
for f in portmasterd.conf rules.conf doh-endpoints.txt; do
	if [ ! -e "$etc/$f" ]; then
		install -m 0644 "$template/$f" "$etc/$f"
		echo "make run: installed $etc/$f"
	fi
done
getent group portmaster >/dev/null || groupadd --system portmaster

cat <<MSG
make run: starting portmasterd (Ctrl-C stops it and removes its rules).
In another terminal, as root or a member of group portmaster:
    $bin/pmctl status                 mode, version, counters
    $bin/pmctl list                   recent connections and their verdicts
    $bin/pmctl rule add block --dst 192.0.2.0/24 --for 10m
    $bin/pmctl default ask            new flows wait for you:
    $bin/pmctl pending                ... see them
    $bin/pmctl verdict ID accept      ... and answer (--permanent to keep it)
    $bin/pmctl help
MSG
exec "$bin/portmasterd" --foreground --config "$etc"

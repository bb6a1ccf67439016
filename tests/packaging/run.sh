#!/bin/bash
# The packaging stage, as TAP: make install/uninstall into a DESTDIR (and
# the unit checked by systemd-analyze), then for real on this machine
# make install + make dkms-install for both Debian kernels, a newcomer's
# path in qemu on each kernel using only the installed files, and
# everything removed again.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 1
. tests/lib/tap.sh
version=$(scripts/version.sh)

# Into a DESTDIR: every file where it belongs, and uninstall leaves nothing.
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
if make -s install DESTDIR="$dest" PREFIX=/usr >"$dest.log" 2>&1; then
	tap_pass "make install DESTDIR=... PREFIX=/usr"
else
	tap_fail "make install DESTDIR=... PREFIX=/usr" "$(cat "$dest.log")"
fi
for f in /usr/sbin/portmasterd /usr/bin/pmctl /usr/share/man/man8/portmasterd.8 \
	/usr/sbin/portmaster-ui /usr/bin/portmaster-notify \
	/usr/lib/systemd/user/portmaster-notify.service /etc/xdg/autostart/portmaster-notify.desktop \
	/usr/share/man/man8/pmctl.8 /usr/share/bash-completion/completions/pmctl \
	/usr/lib/systemd/system/portmasterd.service /usr/lib/sysusers.d/portmaster.conf \
	/etc/portmaster/portmasterd.conf /etc/portmaster/rules.conf \
	"/usr/src/portmaster-$version/dkms.conf" "/usr/src/portmaster-$version/kmod/main.c"; do
	tap_ok "installed: $f" test -f "$dest$f"
done
tap_is "the dkms source carries the same version" \
	"$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$dest/usr/src/portmaster-$version/dkms.conf") $(cat "$dest/usr/src/portmaster-$version/VERSION")" \
	"$version $version"
tap_is "the unit starts the installed daemon" \
	"$(sed -n 's/^ExecStart=//p' "$dest/usr/lib/systemd/system/portmasterd.service")" \
	"/usr/sbin/portmasterd --foreground"
exposure=$(systemd-analyze security --offline=true --root="$dest" portmasterd.service 2>/dev/null |
	sed -n 's/.*Overall exposure level for portmasterd.service: \([0-9.]*\) \(.*\)/\1 \2/p')
case $exposure in
[0-4].*) tap_pass "systemd-analyze security: exposure $exposure" ;;
*) tap_fail "systemd-analyze security: exposure below 5 (OK or better)" "got '$exposure'" ;;
esac
echo "changed by the user" >>"$dest/etc/portmaster/rules.conf"
make -s uninstall DESTDIR="$dest" PREFIX=/usr >"$dest.log" 2>&1
tap_ok "make uninstall" grep -q uninstalled "$dest.log"
left=$(cd "$dest" && find . -type f | sort)
tap_is "uninstall removes exactly what was installed (a changed config stays)" \
	"$left" "./etc/portmaster/rules.conf"
rm -f "$dest.log"

# For real: install, dkms for both kernels, the newcomer's path in qemu.
kvers=""
for s in 6.1 6.12; do kvers="$kvers $(tests/vm/kernels.sh $s)"; done
if make -s install PREFIX=/usr/local >/tmp/pm-install.log 2>&1 &&
	scripts/dkms.sh install "$version" $kvers >/tmp/pm-dkms.log 2>&1; then
	tap_pass "make install && make dkms-install ($kvers )"
else
	tap_fail "make install && make dkms-install" "$(tail -n 30 /tmp/pm-install.log /tmp/pm-dkms.log)"
fi
# The unit as systemd sees it on this machine, its binary and man pages installed.
if out=$(systemd-analyze verify /usr/local/lib/systemd/system/portmasterd.service 2>&1); then
	tap_pass "systemd-analyze verify: the installed unit is clean"
else
	tap_fail "systemd-analyze verify: the installed unit is clean" "$out"
fi
for k in $kvers; do
	st=$(dkms status -m portmaster -v "$version" -k "$k" 2>/dev/null)
	echo "$st" | grep -q installed && tap_pass "dkms status: installed for $k" ||
		tap_fail "dkms status: installed for $k" "$st"
	tap_ok "depmod knows it for $k" sh -c "modprobe -S $k --show-depends portmaster | grep -q updates/dkms/portmaster.ko"
	tap_is "modinfo for $k: version $version" "$(modinfo -k "$k" -F version portmaster 2>&1)" "$version"
done
# shellcheck disable=SC2086
set -- $kvers
tap_is "modinfo: license" "$(modinfo -k "$1" -F license portmaster)" GPL
tap_ok "modinfo: a description" sh -c "modinfo -k $1 -F description portmaster | grep -q ."
# every parameter of the source, each with its description
want=$(sed -n 's/^module_param_cb(\([a-z_]*\),.*/\1/p' kmod/main.c | sort | tr '\n' ' ')
got=$(modinfo -k "$1" -F parm portmaster | sed -n 's/^\([a-z_]*\):..*/\1/p' | sort | tr '\n' ' ')
tap_is "modinfo: every parameter, each with a description" "$got" "$want"
for k in $kvers; do
	tests/vm/vm-suite.sh "$k" tests/packaging/newcomer.sh -t 600 >"$dest.vm" 2>&1
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
			if [ -n "${BASH_REMATCH[1]}" ]; then
				tap_fail "$k: ${BASH_REMATCH[2]}"
			else
				tap_pass "$k: ${BASH_REMATCH[2]}"
			fi
		elif [[ $line == "#"* ]]; then
			echo "$line"
		fi
	done <"$dest.vm"
	rm -f "$dest.vm"
done

scripts/dkms.sh remove "$version" >/dev/null 2>&1
make -s uninstall PREFIX=/usr/local >/dev/null 2>&1
tap_ok "dkms remove: nothing of portmaster left in dkms" sh -c "! dkms status -m portmaster | grep -q ."
for k in $kvers; do
	tap_ok "dkms remove: no module left for $k" sh -c "! ls /lib/modules/$k/updates/dkms/portmaster.ko* 2>/dev/null"
done
tap_ok "make uninstall: no binary left" sh -c '! test -e /usr/local/sbin/portmasterd && ! test -e /usr/local/bin/pmctl'
tap_done

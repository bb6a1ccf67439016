# A default-block that keeps the machine working: "pmctl default block"
# without the system preset warns and says how to enable it; with it, a
# DHCP exchange (dnsmasq in the peer namespace, busybox udhcpc, then a
# renewal through a UDP socket), an NTP query from the time daemon (by
# its unit) and loopback traffic work, and curl is blocked.


t_preset() {
	local out rc cg leaf addr mac
	mkdir -p "$CONF/rules.d" && rm -f "$CONF/rules.conf"
	cp "$TOP/config/rules.d/10-system.conf" "$CONF/rules.d/"
	if ! start_daemon; then
		tap_fail "daemon starts with the shipped preset" "$(tail -3 "$WORK/pmd.log")"
		return
	fi
	tap_is "the preset is installed, off: no rules" "$(stat_of rules) $("$PMCTL" -t preset)" "0 system	no"
	out=$("$PMCTL" default block 2>&1 >/dev/null); rc=$?
	tap_is "default block without the preset: done, with a warning that says how to enable it" \
		"$rc $(echo "$out" | grep -c "pmctl preset enable system")" "0 1"
	inc conntrack -F >/dev/null 2>&1
	out=$(inc python3 -c 'import socket; socket.create_connection(("127.0.0.1", 1), timeout=2)' 2>&1 | grep -o 'refused\|No route to host\|timed out' | head -1)
	tap_is "without it, loopback is blocked too (rejected before the port's own refusal)" "$out" "No route to host"
	"$PMCTL" preset enable system >/dev/null
	tap_is "pmctl preset enable system: 'enable system' in rules.conf, its rules apply" \
		"$(grep -c '^enable system$' "$CONF/rules.conf") $([ "$(stat_of rules)" -gt 20 ] && echo many)" "1 many"
	out=$("$PMCTL" default block 2>&1 >/dev/null)
	tap_is "default block with the preset: no warning" "$out" ""
	# DHCP: dnsmasq serves the peer side of the link
	ins dnsmasq --no-daemon --port=0 --interface=pmt1 --bind-interfaces --conf-file=/dev/null \
		--dhcp-range=10.77.0.100,10.77.0.150,2m --dhcp-leasefile="$WORK/leases" \
		--pid-file="$WORK/dnsmasq.pid" >"$WORK/dnsmasq.log" 2>&1 &
	PIDS+=($!)
	wait_port "$S" udp 67
	printf '#!/bin/sh\n[ "$1" = bound ] && ip addr add "$ip/24" dev "$interface"\nexit 0\n' >"$WORK/udhcpc.sh"
	chmod +x "$WORK/udhcpc.sh"
	inc busybox udhcpc -i pmt0 -f -q -n -t 5 -T 1 -s "$WORK/udhcpc.sh" >"$WORK/udhcpc.log" 2>&1
	addr=$(inc ip -4 -o addr show dev pmt0 | awk '{ print $4 }' | grep '^10\.77\.0\.1[0-5][0-9]/' | cut -d/ -f1)
	tap_is "DHCP: udhcpc gets a lease from dnsmasq" "$(echo "$addr" | grep -c .)" 1
	mac=$(inc cat /sys/class/net/pmt0/address)
	tap_is "DHCP: the renewal, a UDP request from port 68 to 67, is acknowledged" \
		"$(inc python3 "$HERE/dhcprenew.py" "$addr" "$mac" 10.77.0.2)" "ack"
	# NTP: the time daemon is who its unit says; python3 stands in for it
	ins python3 "$HERE/ntpsrv.py" 10.77.0.2 "$WORK/ntp.count" >/dev/null 2>&1 &
	PIDS+=($!)
	wait_port "$S" udp 123
	# an NTP client's query: 48 bytes, mode 3; it waits for the answer, as
	# a client does (and stays there to be attributed)
	printf '%s\n' 'import socket' 's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)' \
		's.settimeout(2)' 's.sendto(b"\x23" + bytes(47), ("10.77.0.2", 123))' \
		'try: s.recv(64)' 'except OSError: pass' >"$WORK/ntpq.py"
	cg=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
	leaf=$cg/system.slice/systemd-timesyncd.service/pmtest-$$
	if [ -z "$cg" ] || ! mkdir -p "$leaf" 2>/dev/null; then
		tap_skip "NTP from the time daemon" "no writable cgroup v2 hierarchy here"
	else
		inc python3 "$WORK/ntpq.py"
		sleep 1
		tap_is "NTP: a query from another program is blocked" "$(cat "$WORK/ntp.count" 2>/dev/null || echo 0)" 0
		sh -c "echo \$\$ >'$leaf/cgroup.procs' && exec ip netns exec '$C' python3 '$WORK/ntpq.py'"
		for _ in $(seq 1 50); do [ -s "$WORK/ntp.count" ] && break; sleep 0.1; done
		tap_is "NTP: the time daemon's query (unit systemd-timesyncd.service) gets out" \
			"$(cat "$WORK/ntp.count" 2>/dev/null)" 1
		rmdir "$leaf" "$(dirname "$leaf")" "$cg/system.slice" 2>/dev/null
	fi
	out=$(inc sh -c 'python3 -c "import socket,time; s=socket.socket(); s.bind((\"127.0.0.1\", 9123)); s.listen(); c,_=s.accept(); c.send(b\"lo-ok\"); time.sleep(1)" &
		sleep 0.5; python3 -c "import socket; print(socket.create_connection((\"127.0.0.1\", 9123), timeout=3).recv(10).decode())"' 2>&1)
	tap_is "loopback works under default block with the preset" "$out" "lo-ok"
	inc curl -sS -m 5 http://10.77.0.2/ >/dev/null 2>&1; rc=$?
	tap_is "and curl to the LAN is blocked (the default)" "$rc" 7
	stop_daemon TERM
	# or by a line in portmasterd.conf, which pmctl cannot undo
	rm -f "$CONF/rules.conf"
	printf 'presets = system\n' >"$CONF/portmasterd.conf"
	if start_daemon; then
		"$PMCTL" preset disable system >/dev/null 2>&1; rc=$?
		tap_is "presets = system in portmasterd.conf: on at start, pmctl cannot turn it off" \
			"$([ "$(stat_of rules)" -gt 20 ] && echo many) $rc $("$PMCTL" -t preset)" \
			"many 1 system	yes (portmasterd.conf)"
		stop_daemon TERM
	else
		tap_fail "daemon starts with presets = system" "$(tail -3 "$WORK/pmd.log")"
	fi
	rm -f "$CONF/portmasterd.conf"
	inc ip addr flush dev pmt0 scope global label pmt0 2>/dev/null
	inc ip addr add 10.77.0.1/24 dev pmt0 2>/dev/null
	inc ip -6 addr add fd77::1/64 dev pmt0 nodad 2>/dev/null
	rm -rf "$CONF/rules.d" "$CONF/rules.conf"
}

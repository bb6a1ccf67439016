# SIGKILL: the seed's rules stay behind.  Connections already marked keep
# working (conntrack restores 1710); new flows meet "--queue-bypass" with
# nobody reading, pass unmarked and are dropped by "-m mark --mark 0 -j
# DROP": fail-closed.  A restart clears the stale rules and recovers.

t_crash() {
	local out rc t0 ms
	rm -f "$CONF/rules.conf" "$WORK/go"
	if ! start_daemon; then
		tap_fail "daemon starts for the crash tests"
		return
	fi
	# A long-lived connection, opened while the daemon runs.
	inc bash -c 'exec 3<>/dev/tcp/10.77.0.2/8095 || exit 1
		echo before >&3; read -r -t 3 a <&3; echo "1:$a"
		while [ ! -e "$1/go" ]; do sleep 0.1; done
		echo after >&3; read -r -t 3 b <&3; echo "2:$b"' _ "$WORK" >"$WORK/long.out" 2>&1 &
	local long=$!
	for _ in $(seq 1 30); do grep -q '^1:' "$WORK/long.out" && break; sleep 0.1; done
	tap_is "a long-lived connection works while the daemon runs" "$(head -n1 "$WORK/long.out")" "1:before"

	kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
	tap_is "after SIGKILL the seed's rules stay in place" \
		"$(pm_save iptables-nft-save | grep -c -- '-j C17$')" "2"
	touch "$WORK/go"
	wait "$long"
	tap_is "after SIGKILL the connection marked 1710 keeps working" "$(sed -n 2p "$WORK/long.out")" "2:after"
	t0=$(now_ms)
	inc curl -sS -o /dev/null --connect-timeout 2 http://10.77.0.2/ 2>/dev/null; rc=$?
	ms=$(( $(now_ms) - t0 ))
	if [ "$rc" = 28 ]; then
		tap_pass "after SIGKILL a new connection is dropped (fail-closed; timed out after $ms ms)"
	else
		tap_fail "after SIGKILL a new connection is dropped (fail-closed)" "curl exit $rc after $ms ms"
	fi

	if ! start_daemon; then
		tap_fail "the daemon restarts after SIGKILL (stale socket and rules)"
		return
	fi
	grep -q "removed stale IPv4 rules" "$WORK/pmd.log" &&
		tap_pass "the restart finds and removes the stale rules" ||
		tap_fail "the restart finds and removes the stale rules" "$(tail -5 "$WORK/pmd.log")"
	out=$(pm_save iptables-nft-save)
	[ "$out" = "$(cat "$HERE/expected/v4.save")" ] &&
		tap_pass "after the restart the rules are exactly the seed's, once" ||
		tap_fail "after the restart the rules are exactly the seed's, once" "$(diff <(echo "$out") "$HERE/expected/v4.save")"
	out=$(inc curl -sS -m 5 http://10.77.0.2/ 2>&1)
	tap_is "after the restart new connections work again" "$out" "hello"
	stop_daemon TERM

	# Without --foreground: the parent returns once the daemon is ready.
	ip netns exec "$C" "$PMD" --config "$CONF" --socket "$SOCK" --history "$WORK/history.db" \
		--ui off >/dev/null 2>&1
	rc=$?
	local pid
	pid=$(stat_of pid)
	if [ "$rc" = 0 ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		tap_pass "without --foreground the daemon detaches once ready (pid $pid)"
		kill -TERM "$pid"
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		tap_is "the detached daemon removes its rules at SIGTERM too" \
			"$(pm_save iptables-nft-save | grep -c C17)" "0"
	else
		tap_fail "without --foreground the daemon detaches once ready" "exit $rc, pid '$pid'"
	fi
}

# systemd (Type=notify): READY=1 comes once the rules are in place, not
# before.  fail_policy = open: a daemon that died lets new flows pass.
t_notify_failopen() {
	local out rc
	rm -f "$CONF/rules.conf" "$CONF/portmasterd.conf"
	python3 - "$WORK/notify.sock" "$C" >"$WORK/notify.out" 2>&1 <<'PY' &
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
while True:
    msg = s.recv(4096).decode()
    # what the rules look like at the moment the daemon says it is ready
    rules = subprocess.run(["ip", "netns", "exec", sys.argv[2], "iptables-nft-save", "-t", "filter"],
                           capture_output=True, text=True).stdout
    print(msg.replace("\n", " "), "| C17 jumps:", rules.count("-j C17\n"), flush=True)
    if "READY=1" in msg:
        break
PY
	local listener=$!
	for _ in $(seq 1 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done
	NOTIFY_SOCKET=$WORK/notify.sock start_daemon
	wait "$listener"
	out=$(grep READY=1 "$WORK/notify.out")
	case $out in
	*"C17 jumps: 2") tap_pass "sd_notify READY=1 once the rules are installed ($out)" ;;
	*) tap_fail "sd_notify READY=1 once the rules are installed" "$(cat "$WORK/notify.out")" ;;
	esac
	stop_daemon TERM

	printf 'fail_policy = open   # no daemon, no firewall\n' >"$CONF/portmasterd.conf"
	start_daemon || { tap_fail "daemon starts with fail_policy = open"; return; }
	tap_is "fail_policy = open: unmarked packets return instead of being dropped" \
		"$(pm_save iptables-nft-save | grep -c -- '-A C17 -m mark --mark 0x0 -j RETURN')" 1
	kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
	out=$(inc curl -sS -m 5 http://10.77.0.2/ 2>&1); rc=$?
	tap_is "fail_policy = open: after SIGKILL new connections still work" "$out" hello
	start_daemon || tap_fail "daemon restarts after SIGKILL with fail_policy = open"
	stop_daemon TERM
	rm -f "$CONF/portmasterd.conf"
}

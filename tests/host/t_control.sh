# The control socket: permissions, peer credentials, malformed input,
# pmctl's exit statuses, the rules file (persisted, malformed, SIGHUP).

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_member() { setpriv --reuid=nobody --regid=portmaster --clear-groups "$@"; }

t_control() {
	local out rc n
	if ! getent group portmaster >/dev/null; then
		tap_skip "control socket permissions" "no group portmaster (make deps creates it)"
		return
	fi
	rm -f "$CONF/rules.conf"
	if ! start_daemon; then
		tap_fail "daemon starts for the control tests"
		return
	fi
	tap_is "control socket is mode 0666, owner root, group portmaster" \
		"$(stat -c '%a %U %G' "$SOCK")" "666 root portmaster"
	# A copy that nobody can run wherever the checkout is (CI may keep
	# it in a directory other users cannot enter).
	local PMCTL_ROOT=$PMCTL PMCTL=$WORK/pmctl
	install -m 0755 "$PMCTL_ROOT" "$PMCTL"

	# Anyone may read the status; only root and group portmaster change
	# anything, decided from the credentials the client connected with.
	out=$(as_nobody env PMCTL_SOCKET="$SOCK" "$PMCTL" status 2>&1); rc=$?
	tap_is "anyone may read the status" "$rc" "0"
	out=$(as_nobody env PMCTL_SOCKET="$SOCK" "$PMCTL" default block 2>&1); rc=$?
	if [ "$rc" = 1 ] && echo "$out" | grep -q "permission denied"; then
		tap_pass "a user outside group portmaster may not change the rules"
	else
		tap_fail "a user outside group portmaster may not change the rules" "exit $rc: $out"
	fi
	out=$(as_nobody --inh-caps +net_admin --ambient-caps +net_admin \
		env PMCTL_SOCKET="$SOCK" "$PMCTL" rule add allow --port 4 --until-restart 2>&1); rc=$?
	tap_is "nor with CAP_NET_ADMIN: the group decides, nothing read from /proc" "$rc" "1"
	tap_is "the refused changes did not happen" "$(stat_of default) $(stat_of rules)" "allow 0"
	out=$(as_nobody env PMCTL_SOCKET="$SOCK" "$PMCTL" rule list 2>&1); rc=$?
	tap_is "nor read the rules" "$rc" "1"
	inc curl -s -o /dev/null -m 5 http://10.77.0.2/
	out=$(as_nobody env PMCTL_SOCKET="$SOCK" "$PMCTL" -t list 2>&1)
	tap_is "and sees only the flows of its own uid (none here; root's curl is not shown)" "$out" ""
	out=$(as_member env PMCTL_SOCKET="$SOCK" "$PMCTL" rule add allow --port 4 --until-restart 2>&1); rc=$?
	tap_is "a member of group portmaster may change the rules (no capability needed)" "$rc" "0"
	out=$(setpriv --reuid=nobody --regid=nogroup --groups=portmaster \
		env PMCTL_SOCKET="$SOCK" "$PMCTL" rule add allow --port 5 --until-restart 2>&1); rc=$?
	tap_is "so may one with portmaster as a supplementary group" "$rc" "0"
	out=$(as_member env PMCTL_SOCKET="$SOCK" "$PMCTL" -t list 2>&1 | wc -l)
	[ "$out" -ge 1 ] && tap_pass "and a member sees everyone's flows" ||
		tap_fail "and a member sees everyone's flows" "$out lines"

	# Malformed requests get a clear error; the daemon lives on.
	code() { sed 's/^{"error":"\([a-z]*\)".*/\1/'; }
	out=$(printf '%s\n' '{"cmd":"bogus-cmd"}' '{"cmd":"status","args":{"x":"1"}}' 'status' \
		'{"cmd":"rule-add","args":{"action":"allow","port":{}}}' \
		'{"cmd":"verdict","args":{"id":"1","action":"accept"}}' |
		socat -t 2 - UNIX-CONNECT:"$SOCK" | code | tr '\n' ',')
	tap_is "malformed requests get usage errors, each its own" "$out" "usage,usage,usage,usage,noent,"
	out=$(head -c 10000 /dev/zero | tr '\0' 'a' | socat -t 2 - UNIX-CONNECT:"$SOCK")
	tap_is "an over-long request line is refused" "$out" \
		'{"error":"usage","message":"request line too long (at most 4095 bytes)"}'
	out=$(printf '{"cmd":"status\001"}\n' | socat -t 2 - UNIX-CONNECT:"$SOCK" | code)
	tap_is "control bytes in a request are refused" "$out" "usage"
	tap_ok "the daemon still answers after malformed input" "$PMCTL" status

	# pmctl: 0 ok, 1 error, 2 bad usage.
	"$PMCTL" status >/dev/null 2>&1; tap_is "pmctl status exits 0" "$?" "0"
	"$PMCTL" bogus >/dev/null 2>&1; tap_is "pmctl with an unknown command exits 2" "$?" "2"
	"$PMCTL" rule add allow --port 99999 >/dev/null 2>&1; tap_is "pmctl rule add with a bad port exits 2" "$?" "2"
	"$PMCTL" verdict 987654 accept >/dev/null 2>&1; tap_is "pmctl verdict for an unknown flow exits 1" "$?" "1"
	PMCTL_SOCKET=$WORK/none.sock "$PMCTL" status >/dev/null 2>&1; tap_is "pmctl without a daemon exits 1" "$?" "1"
	out=$("$PMCTL" -j status | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["mode"], type(d["packets"]).__name__)')
	tap_is "pmctl -j status is JSON with numbers as numbers" "$out" "nfqueue int"
	out=$("$PMCTL" rule list -j | python3 -c 'import json,sys; print(len(json.load(sys.stdin)) >= 1)')
	tap_is "-j works after the command too" "$out" "True"

	# Rules marked always persist, atomically, and come back after a restart.
	"$PMCTL" rule add block --port 8081 --dst 10.77.0.0/16 --always >/dev/null
	grep -qx 'block dst=10.77.0.0/16 port=8081' "$CONF/rules.conf" &&
		tap_pass "an always rule is written to rules.conf" ||
		tap_fail "an always rule is written to rules.conf" "$(cat "$CONF/rules.conf" 2>&1)"
	n=$(find "$CONF" -name '*.tmp.*' | wc -l)
	tap_is "no temporary file is left behind" "$n" "0"
	stop_daemon TERM
	start_daemon || tap_fail "daemon restarts with its rules file"
	n=$("$PMCTL" -t rule list | awk -F'\t' '$2 == "block" && $8 == 8081' | wc -l)
	tap_is "the always rule is back after a restart (until-restart ones are not)" \
		"$n $("$PMCTL" -t rule list | grep -c until-restart)" "1 0"

	# A malformed file on SIGHUP: error with file:line, last good rules kept.
	n=$(stat_of rules)
	printf '# comment\nallow port=80\nblock port=no-such-service\n' >"$CONF/rules.conf"
	kill -HUP "$DAEMON_PID"; sleep 0.5
	grep -q "rules.conf:3: bad port 'no-such-service'" "$WORK/pmd.log" &&
		tap_pass "SIGHUP with a malformed file reports file:line" ||
		tap_fail "SIGHUP with a malformed file reports file:line" "$(tail -3 "$WORK/pmd.log")"
	tap_is "and keeps the last good rules" "$(stat_of rules)" "$n"
	printf 'allow port=80\nallow port=81\n' >"$CONF/rules.conf"
	kill -HUP "$DAEMON_PID"; sleep 0.5
	tap_is "SIGHUP reloads a good file" "$(stat_of rules)" "2"
	# Reloading keeps what the file still says where it was, with its id,
	# and rules that live in memory where they were put.
	local id81 before_hup
	id81=$("$PMCTL" -t rule list | awk -F'\t' '$8 == 81 { print $1 }')
	"$PMCTL" rule add block --port 82 --until-restart --before "$id81" >/dev/null
	before_hup=$("$PMCTL" -t rule list | cut -f1-3,8 | tr '\t\n' ' ;')
	kill -HUP "$DAEMON_PID"; sleep 0.5
	tap_is "SIGHUP with the same file keeps every rule's id and place" \
		"$("$PMCTL" -t rule list | cut -f1-3,8 | tr '\t\n' ' ;')" "$before_hup"
	printf 'allow port=81\nallow port=80\nallow port=83\n' >"$CONF/rules.conf"
	kill -HUP "$DAEMON_PID"; sleep 0.5
	tap_is "SIGHUP with lines swapped and added: ids kept, the file's order, the memory rule in place" \
		"$("$PMCTL" -t rule list | cut -f1,8 | tr '\t\n' ':,')" \
		"$id81:81,$((id81 - 1)):80,$((id81 + 1)):82,$((id81 + 2)):83,"
	stop_daemon TERM
	printf 'allow port=80\ndrop dst=10.0.0.1/8\n' >"$CONF/rules.conf"
	out=$(ip netns exec "$C" "$PMD" --foreground --config "$CONF" --socket "$SOCK" 2>&1); rc=$?
	if [ "$rc" = 1 ] && echo "$out" | grep -q "rules.conf:2:"; then
		tap_pass "with no good rules at all the daemon refuses to start (file:line given)"
	else
		tap_fail "with no good rules at all the daemon refuses to start (file:line given)" "exit $rc: $out"
	fi
	rm -f "$CONF/rules.conf"
	tap_is "a refused start leaves no rules behind" "$(pm_save iptables-nft-save | grep -c C17)" "0"
}

# Clients of the control socket: an idle one loses its slot, one that
# half-closes without reading its replies does not spin the loop, and one
# user cannot take every slot.
t_clients() {
	local out pid t0 t1 n
	rm -f "$CONF/rules.conf" "$CONF/portmasterd.conf"
	mkdir -p "$CONF"
	if ! start_daemon; then
		tap_fail "daemon starts for the client tests"
		return
	fi
	# slots per uid: nobody gets 8, the 9th is refused; root still gets in
	n=$(setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 - "$SOCK" <<'PY'
import socket, sys
held, refused = [], 0
for _ in range(12):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.settimeout(0.5)
    try:
        reply = s.recv(100)	# a refused one is told at once
    except socket.timeout:
        reply = b""
    if b'"error":"busy"' in reply:
        refused += 1
    else:
        held.append(s)
print(len(held), refused)
PY
)
	tap_is "one user holds at most 8 slots; more are refused 'busy'" "$n" "8 4"
	tap_ok "meanwhile another user still gets in" "$PMCTL" status
	stop_daemon TERM
	printf 'client_timeout = 2s\n' >"$CONF/portmasterd.conf"
	if ! start_daemon; then
		tap_fail "daemon starts with client_timeout = 2s"
		return
	fi
	# idle: connected, never asking
	python3 - "$SOCK" >"$WORK/idle.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
t0 = time.monotonic()
s.settimeout(20)
print("closed" if s.recv(1) == b"" else "data", int(time.monotonic() - t0))
PY
	pid=$!
	wait $pid
	out=$(cat "$WORK/idle.out")
	case $out in
	"closed "[1-9]) tap_pass "an idle client is closed after client_timeout ($out s)" ;;
	*) tap_fail "an idle client is closed after client_timeout (2 s)" "$out" ;;
	esac
	# half-closed with a large reply unread: the daemon stays idle
	local curls=()
	for _ in $(seq 1 40); do
		inc curl -s -o /dev/null http://10.77.0.2/ &
		curls+=($!)
	done
	wait "${curls[@]}"
	t0=$(awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat")
	python3 - "$SOCK" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"{\"cmd\":\"list\"}\n" * 200)
s.shutdown(socket.SHUT_WR)
time.sleep(3)
s.close()
PY
	t1=$(awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat")
	# clock ticks (1/100 s): a loop spinning for 3 s would use about 300
	if [ $((t1 - t0)) -lt 100 ]; then
		tap_pass "a half-closed client that reads nothing does not spin the loop ($((t1 - t0)) ticks in 3 s)"
	else
		tap_fail "a half-closed client that reads nothing does not spin the loop" "$((t1 - t0)) ticks of CPU in 3 s"
	fi
	tap_ok "and the daemon still answers" "$PMCTL" status
	stop_daemon TERM
	rm -f "$CONF/portmasterd.conf"
}

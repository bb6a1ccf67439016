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
	tap_is "control socket is mode 0660, owner root, group portmaster" \
		"$(stat -c '%a %U %G' "$SOCK")" "660 root portmaster"
	# A copy that nobody can run wherever the checkout is (CI may keep
	# it in a directory other users cannot enter).
	local PMCTL_ROOT=$PMCTL PMCTL=$WORK/pmctl
	install -m 0755 "$PMCTL_ROOT" "$PMCTL"

	out=$(as_nobody env PMCTL_SOCKET="$SOCK" "$PMCTL" status 2>&1); rc=$?
	if [ "$rc" = 1 ] && echo "$out" | grep -q "Permission denied"; then
		tap_pass "a user outside the group cannot connect: permission denied (exit 1)"
	else
		tap_fail "a user outside the group cannot connect: permission denied (exit 1)" "exit $rc: $out"
	fi
	out=$(as_member env PMCTL_SOCKET="$SOCK" "$PMCTL" status 2>&1); rc=$?
	tap_is "a member of group portmaster may read the status" "$rc" "0"
	out=$(as_member env PMCTL_SOCKET="$SOCK" "$PMCTL" default block 2>&1); rc=$?
	if [ "$rc" = 1 ] && echo "$out" | grep -q "permission denied"; then
		tap_pass "a member without CAP_NET_ADMIN may not change state (peer credentials)"
	else
		tap_fail "a member without CAP_NET_ADMIN may not change state (peer credentials)" "exit $rc: $out"
	fi
	tap_is "the refused change did not happen" "$(stat_of default)" "allow"
	out=$(as_member --inh-caps +net_admin --ambient-caps +net_admin \
		env PMCTL_SOCKET="$SOCK" "$PMCTL" rule add allow --port 4 --until-restart 2>&1); rc=$?
	tap_is "a member with CAP_NET_ADMIN may change state" "$rc" "0"

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
	printf '# comment\nallow port=80\nblock port=http\n' >"$CONF/rules.conf"
	kill -HUP "$DAEMON_PID"; sleep 0.5
	grep -q "rules.conf:3: bad port 'http'" "$WORK/pmd.log" &&
		tap_pass "SIGHUP with a malformed file reports file:line" ||
		tap_fail "SIGHUP with a malformed file reports file:line" "$(tail -3 "$WORK/pmd.log")"
	tap_is "and keeps the last good rules" "$(stat_of rules)" "$n"
	printf 'allow port=80\nallow port=81\n' >"$CONF/rules.conf"
	kill -HUP "$DAEMON_PID"; sleep 0.5
	tap_is "SIGHUP reloads a good file" "$(stat_of rules)" "2"
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

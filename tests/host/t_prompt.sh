# Prompts: a flow waits (its packet held in the queue) until pmctl decides
# it or the prompt times out, and never delays the flows rules decide.

pending_id() { # dport: id of the pending flow to that port
	"$PMCTL" -t pending | awk -F'\t' -v p="$1" '$7 == p { print $1; exit }'
}

wait_pending() { # dport
	local id
	for _ in $(seq 1 50); do
		id=$(pending_id "$1")
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.1
	done
	return 1
}

t_prompt() {
	local id out rc t0 ms ok pending
	rm -f "$CONF/rules.conf"
	mkdir -p "$CONF"
	printf 'prompt_timeout = 5\nprompt_fallback = block\n' >"$CONF/portmasterd.conf"
	if ! start_daemon; then
		tap_fail "daemon starts for the prompt tests"
		return
	fi
	"$PMCTL" default ask >/dev/null
	"$PMCTL" rule add allow --port 8090 --until-restart >/dev/null

	# One pending flow, and 100 rule-allowed connections at the same time.
	ip netns exec "$C" curl -sS -m 20 http://10.77.0.2/ >"$WORK/prompted.out" 2>&1 &
	local curl_pid=$!
	if ! id=$(wait_pending 80); then
		tap_fail "a new flow under default ask waits in pmctl pending"
		return
	fi
	tap_pass "a new flow under default ask waits in pmctl pending (flow $id)"
	out=$(inc python3 "$HERE/conns.py" 10.77.0.2 8090 100 3)
	ok=${out% *}; ms=${out#* }
	pending=$("$PMCTL" -t pending | wc -l)
	tap_is "100 rule-allowed connections all succeed while the prompt is open" "$ok" "100"
	# Each had 3 s to connect; waiting for the prompt would have been for
	# ever: that all succeeded with the prompt still pending shows it.
	tap_is "the prompt is still pending meanwhile: none waited for it (100 in $ms ms)" "$pending" "1"
	"$PMCTL" verdict "$id" accept >/dev/null
	wait "$curl_pid"
	tap_is "pmctl verdict accept releases the held packet: curl gets the page" \
		"$(cat "$WORK/prompted.out")" "hello"
	"$PMCTL" verdict "$id" accept >/dev/null 2>&1
	tap_is "a second verdict for the same flow is refused (exit 1)" "$?" "1"

	# Block from the prompt: the client learns at once.
	ip netns exec "$C" curl -sS -m 20 http://10.77.0.2:8080/ >/dev/null 2>&1 &
	curl_pid=$!
	id=$(wait_pending 8080)
	t0=$(now_ms)
	"$PMCTL" verdict "$id" block >/dev/null
	wait "$curl_pid"; rc=$?
	ms=$(( $(now_ms) - t0 ))
	# exit 7, and no prompt timed out yet: refused by the answer
	if [ "$rc" = 7 ] && [ "$(stat_of timeouts)" = 0 ]; then
		tap_pass "pmctl verdict block: the waiting client fails at once ($ms ms)"
	else
		tap_fail "pmctl verdict block: the waiting client fails at once" "curl exit $rc after $ms ms"
	fi

	# Nobody answers: the timeout (5 s here) applies the fallback (block).
	t0=$(now_ms)
	inc curl -sS -m 20 http://10.77.0.2:8082/ >/dev/null 2>&1; rc=$?
	ms=$(( $(now_ms) - t0 ))
	if [ "$rc" = 7 ] && [ "$ms" -ge 4800 ]; then
		tap_pass "an unanswered prompt times out into the fallback action (block after $ms ms)"
	else
		tap_fail "an unanswered prompt times out into the fallback action" "curl exit $rc after $ms ms"
	fi
	tap_is "the timeout is counted" "$(stat_of timeouts)" "1"
	"$PMCTL" default allow >/dev/null
	stop_daemon TERM
	rm -f "$CONF/portmasterd.conf" "$CONF/rules.conf"
}

# Prompts are shared fairly: an inbound flood takes at most the inbound
# share (and one user's part of it), so a local program is still asked;
# inbound flows to a port nothing listens on are never asked.
t_quota() {
	local id out t0 ms n curl_pid
	mkdir -p "$CONF"
	rm -f "$CONF/rules.conf"
	printf 'prompt_timeout = 20s\nmax_pending = 8\n' >"$CONF/portmasterd.conf"
	if ! start_daemon; then
		tap_fail "daemon starts for the prompt share tests"
		return
	fi
	ip netns exec "$C" python3 "$TOP/tests/scenarios/echo.py" tcp/9100 >/dev/null 2>&1 &
	PIDS+=($!)
	wait_port "$C" tcp 9100
	"$PMCTL" default ask >/dev/null
	ip netns exec "$S" python3 - >"$WORK/flood.out" 2>&1 <<'PY' &
import socket, threading
def one():
    try:
        socket.create_connection(("10.77.0.1", 9100), timeout=15).close()
    except OSError:
        pass
ts = [threading.Thread(target=one) for _ in range(30)]
[t.start() for t in ts]
[t.join() for t in ts]
PY
	local flood=$!
	for _ in $(seq 1 50); do
		n=$(stat_of quota_full)
		[ "${n:-0}" -ge 20 ] && break
		sleep 0.1
	done
	n=$("$PMCTL" -t pending | awk -F'\t' '$2 == "in"' | wc -l)
	tap_is "an inbound flood of 30 connections holds 2 prompts (one user's half of the inbound half of 8)" "$n" 2
	ip netns exec "$C" curl -sS -m 20 http://10.77.0.2/ >"$WORK/quota.out" 2>&1 &
	curl_pid=$!
	if id=$(wait_pending 80); then
		tap_pass "meanwhile a local program's new connection is asked, not refused (flow $id)"
		"$PMCTL" verdict "$id" allow >/dev/null
	else
		tap_fail "meanwhile a local program's new connection is asked, not refused" "$("$PMCTL" pending)"
	fi
	wait "$curl_pid"
	tap_is "and gets its page once answered" "$(cat "$WORK/quota.out")" hello
	t0=$(now_ms)
	out=$(ins socat -T 3 - TCP:10.77.0.1:9199,connect-timeout=3 </dev/null 2>&1)
	ms=$(( $(now_ms) - t0 ))
	# answered (the stack's RST, or the default's reject), not held until
	# the client's own timeout
	if echo "$out" | grep -qi 'refused\|no route' && [ -z "$("$PMCTL" -t pending | awk -F'\t' '$7 == 9199')" ]; then
		tap_pass "an inbound connection to a closed port is decided at once, never asked ($ms ms)"
	else
		tap_fail "an inbound connection to a closed port is decided at once, never asked" "$ms ms: $out"
	fi
	n=$(stat_of not_local)
	[ "${n:-0}" -ge 1 ] && tap_pass "counted as not_local ($n)" || tap_fail "counted as not_local" "$n"
	kill "$flood" 2>/dev/null
	"$PMCTL" default allow >/dev/null
	stop_daemon TERM
	rm -f "$CONF/portmasterd.conf" "$CONF/rules.conf"
}

# Scripts can rely on -j fields staying: the exact keys of pmctl -j
# history rows (kind flow and dns) and of pmctl -j monitor events (flow,
# prompt, answer, end, dns), as the daemon builds them (history/store.c
# hstore_query, events/events.c event_record).  A field removed or
# renamed fails here; a new one must be added here on purpose.

# The keys each kind has, in no particular order.  "domain" is on a
# flow's events only when its program resolved the address through us.
FIELDS_EV="event time id ct dir proto src sport dst dport pid uid exe verdict rule"
FIELDS_END="start bytes_out bytes_in packets_out packets_in"
FIELDS_DNS="event time pid uid exe domain verdict rule qtype rcode answers"
FIELDS_HIST="kind start end pid uid exe unit dir proto peer port domain verdict rule bytes_out bytes_in packets_out packets_in"

# fields_check FILE KIND WANT...: "ok", or what is missing and extra in
# the first JSON object of FILE (one a line) that fits KIND
fields_check() {
	python3 - "$@" <<'PY'
import json, sys
path, kind, want = sys.argv[1], sys.argv[2], set(" ".join(sys.argv[3:]).split())
ev, _, port = kind.partition(":")
rows = [json.loads(l) for l in open(path) if l.strip()]
m = [r for r in rows if r.get("event", r.get("kind")) == ev
     and (not port or r.get("dport", r.get("port")) == int(port))]
if not m:
    print("none")
else:
    got = set(m[0])
    print("ok" if got == want else "missing %s extra %s" % (sorted(want - got), sorted(got - want)))
PY
}

t_fields() {
	local curl mon id k
	curl=$(readlink -f "$(command -v curl)")
	for t in dnsmasq dig; do
		command -v $t >/dev/null || { tap_skip "-j field sets" "$t missing (make deps)"; return; }
	done
	# t_resolver's dnsmasq may still be there: it serves the same names.
	ins ss -Hlnu 'sport = :53' | grep -q . || start_dnsmasq || {
		tap_fail "dnsmasq starts for the -j field tests"
		return
	}
	rm -f "$CONF/rules.conf" "$WORK"/history.db*
	mkdir -p "$CONF" "/etc/netns/$C"
	echo "nameserver 127.0.0.17" >"/etc/netns/$C/resolv.conf"
	rs_conf "upstream = 10.77.0.2"
	if ! start_daemon; then
		tap_fail "daemon starts for the -j field tests"
		return
	fi
	"$PMCTL" -j monitor --events flow,prompt,answer,end,dns >"$WORK/fields-mon.out" 2>&1 &
	mon=$!
	# The monitor is there once it shows a query asked after it started.
	for _ in $(seq 1 100); do
		inc dig +short +time=2 +tries=1 @127.0.0.17 fine.test >/dev/null 2>&1
		grep -q '"event": "dns"' "$WORK/fields-mon.out" && break
		sleep 0.1
	done

	# By address before any name: no domain on these (it would stick to
	# the address once curl resolved one for it).
	inc curl -sS -m 10 --http0.9 http://10.77.0.2:8080/ >/dev/null 2>&1
	"$PMCTL" default ask >/dev/null
	inc curl -sS -m 20 --http0.9 http://10.77.0.2:8081/ >/dev/null 2>&1 &
	k=$!
	id=$(wait_pending 8081) && "$PMCTL" verdict "$id" accept >/dev/null
	wait "$k"
	"$PMCTL" default allow >/dev/null
	inc curl -sS -m 10 http://www.allowed.test/ >/dev/null 2>&1
	# The flows end for conntrack when their entries go.
	inc conntrack -D -p tcp >/dev/null 2>&1
	for _ in $(seq 1 100); do
		[ "$(fields_check "$WORK/fields-mon.out" end:80 x)" != none ] &&
			[ "$(fields_check "$WORK/fields-mon.out" end:8080 x)" != none ] && break
		sleep 0.1
	done
	kill "$mon" 2>/dev/null
	wait "$mon" 2>/dev/null

	tap_is "monitor -j flow: exactly its keys" \
		"$(fields_check "$WORK/fields-mon.out" flow:8080 "$FIELDS_EV")" ok
	tap_is "monitor -j flow to a resolved name: its keys and domain" \
		"$(fields_check "$WORK/fields-mon.out" flow:80 "$FIELDS_EV domain")" ok
	tap_is "monitor -j prompt: exactly its keys" \
		"$(fields_check "$WORK/fields-mon.out" prompt:8081 "$FIELDS_EV")" ok
	tap_is "monitor -j answer: exactly its keys" \
		"$(fields_check "$WORK/fields-mon.out" answer:8081 "$FIELDS_EV")" ok
	tap_is "monitor -j end: a flow's keys and its totals" \
		"$(fields_check "$WORK/fields-mon.out" end:8080 "$FIELDS_EV $FIELDS_END")" ok
	tap_is "monitor -j end of a flow to a resolved name: with domain" \
		"$(fields_check "$WORK/fields-mon.out" end:80 "$FIELDS_EV $FIELDS_END domain")" ok
	tap_is "monitor -j dns: exactly its keys" \
		"$(fields_check "$WORK/fields-mon.out" dns "$FIELDS_DNS")" ok

	# The history's rows: both kinds have every key ("-" where none).
	"$PMCTL" -j history --exe "$curl" | python3 -c '
import json, sys
for r in json.load(sys.stdin): print(json.dumps(r))' >"$WORK/fields-hist.out"
	tap_is "history -j flow rows: exactly their keys" \
		"$(fields_check "$WORK/fields-hist.out" flow "$FIELDS_HIST")" ok
	tap_is "history -j dns rows: exactly their keys" \
		"$(fields_check "$WORK/fields-hist.out" dns "$FIELDS_HIST")" ok
	stop_daemon TERM
	rm -rf "/etc/netns/$C" "$CONF/portmasterd.conf" "$CONF/rules.conf"
}

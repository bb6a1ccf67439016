# portmasterd's own resolver, with a real upstream (dnsmasq) in the server
# namespace, and unbound over TLS for the DoT upstream: names allowed and
# refused by domain rules, the domain on connections, CNAME chains, stray
# queries rerouted (1799) over UDP and TCP, truncation, malformed queries,
# blocklists, and the ways around the resolver closed.

RS_CERT=
# dnsmasq: the network's nameserver, at 10.77.0.2:53 (UDP and TCP)
start_dnsmasq() {
	local big=$(printf 'x%.0s' $(seq 1 200))
	ins dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=10.77.0.2 --pid-file= --user=root \
		--log-queries --log-facility="$WORK/dnsmasq.log" \
		--address=/allowed.test/10.77.0.2 --address=/refused.test/10.77.0.2 \
		--address=/use-application-dns.net/10.77.0.2 --address=/doh.test/10.77.0.2 \
		--address=/listed.test/10.77.0.2 --address=/fine.test/10.77.0.2 \
		--host-record=web.target.test,10.77.0.2 --cname=www.chain.test,web.target.test \
		--host-record=tracker.bad.test,10.77.0.2 --cname=cloaked.test,tracker.bad.test \
		--txt-record=big.test,"$big" --txt-record=big.test,"1$big" \
		--txt-record=big.test,"2$big" --txt-record=big.test,"3$big" \
		>/dev/null 2>&1 &
	PIDS+=($!)
	wait_port "$S" udp 53 && wait_port "$S" tcp 53
}

# unbound as a DNS-over-TLS server at 10.77.0.2:853, with a self-signed
# certificate for dot.test
start_dot() {
	local d=$WORK/dot
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dot.test \
		-addext subjectAltName=DNS:dot.test -keyout "$d/key.pem" -out "$d/cert.pem" \
		>/dev/null 2>&1 || return 1
	RS_CERT=$d/cert.pem
	cat >"$d/unbound.conf" <<CONF
server:
  interface: 10.77.0.2@853
  tls-port: 853
  tls-service-key: "$d/key.pem"
  tls-service-pem: "$d/cert.pem"
  do-daemonize: no
  use-syslog: no
  logfile: ""
  username: ""
  chroot: ""
  directory: "$d"
  pidfile: ""
  access-control: 10.77.0.0/24 allow
  do-ip6: no
  local-zone: "dot.test." static
  local-data: "web.dot.test. 300 IN A 10.77.0.2"
CONF
	ins unbound -c "$d/unbound.conf" >"$d/log" 2>&1 &
	PIDS+=($!)
	wait_port "$S" tcp 853
}

# rs_conf LINES...: the daemon's configuration, one argument a line
rs_conf() {
	mkdir -p "$CONF"
	printf '%s\n' "$@" >"$CONF/portmasterd.conf"
}

# The newest flow to DST:DPORT in pmctl -j list: "domain cnames verdict"
rs_flow() { # dst dport
	"$PMCTL" -j list | python3 -c '
import json, sys
dst, dport = sys.argv[1], int(sys.argv[2])
m = [f for f in json.load(sys.stdin) if f["dst"] == dst and f["dport"] == dport and f["proto"] == "tcp"]
m.sort(key=lambda f: f["id"])	# the newest flow, not the one that spoke last
print(" ".join([m[-1]["domain"], m[-1]["cnames"], m[-1]["verdict"]]) if m else "none")' "$1" "$2"
}

# The verdicts of the listed flows to a port, as a sorted list
rs_verdicts() { # dport
	"$PMCTL" -j list | python3 -c '
import json, sys
print(sorted({f["verdict"] for f in json.load(sys.stdin) if f["dport"] == int(sys.argv[1])}))' "$1"
}

# The last query flow for a name: its verdict
rs_query_verdict() { # name
	"$PMCTL" -j list | python3 -c '
import json, sys
m = [f for f in json.load(sys.stdin) if f["domain"] == sys.argv[1] and f["dport"] == 53]
print(m[-1]["verdict"] if m else "none")' "$1"
}

# rs_hist: pmctl -j history rows as "exe domain verdict" and
# "exe domain peer port verdict" lines
rs_hist() { # --dns|--flows
	"$PMCTL" -j history "$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["kind"] == "dns":
        print(r["exe"], r["domain"], r["verdict"])
    else:
        print(r["exe"], r["domain"], r["peer"], r["port"], r["verdict"])'
}

# Where the resolver meets the history and monitor streams: every query
# is a row and an event, and a connection's row carries its domain.
rs_history_and_monitor() { # monitor-pid
	local curl=$(readlink -f "$(command -v curl)") out
	for _ in $(seq 1 50); do
		rs_hist --dns | grep -q "^$curl refused.test block$" && break
		sleep 0.2
	done
	tap_is "history: the allowed query, by the program that asked" \
		"$(rs_hist --dns | grep -c "^$curl www.allowed.test allow$" | sed 's/^[1-9][0-9]*$/yes/')" "yes"
	tap_is "history: the refused query, as blocked" \
		"$(rs_hist --dns | grep -c "^$curl refused.test block$" | sed 's/^[1-9][0-9]*$/yes/')" "yes"
	tap_is "history: the connection's row carries the domain it was opened to" \
		"$(rs_hist --flows | grep -c "^$curl www.allowed.test 10.77.0.2 80 allow$")" "1"
	tap_is "history --domain finds the query and the connection" \
		"$("$PMCTL" -j history --domain allowed.test | python3 -c '
import json, sys
print(" ".join(sorted({r["kind"] for r in json.load(sys.stdin)})))')" "dns flow"
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	out=$(python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
dns = {(e["domain"], e["verdict"], e["answers"]) for e in ev if e["event"] == "dns" and e["qtype"] == 1}
flow = {e.get("domain", "-") for e in ev if e["event"] == "flow" and e.get("dport") == 80}
print(("www.allowed.test", "allow", "10.77.0.2") in dns, ("refused.test", "block", "") in dns,
      "www.allowed.test" in flow)' "$WORK/rs-monitor.out" 2>&1)
	tap_is "pmctl -j monitor: both queries (answers, verdict) and the flow with its domain" \
		"$out" "True True True"
}

t_resolver() {
	local out rc
	for t in dnsmasq unbound dig openssl; do
		if ! command -v $t >/dev/null; then
			tap_skip "resolver tests" "$t missing (make deps)"
			return
		fi
	done
	if ! start_dnsmasq; then
		tap_fail "dnsmasq starts in the server namespace"
		return
	fi
	# The client's system resolver is the network's nameserver.
	mkdir -p "/etc/netns/$C"
	echo "nameserver 10.77.0.2" >"/etc/netns/$C/resolv.conf"
	rm -f "$CONF/rules.conf"
	# resolv.conf lists ourselves first: never our own upstream
	printf 'nameserver 127.0.0.17\nnameserver 10.77.0.2\n' >"$WORK/resolv.conf"
	rs_conf "resolv_conf = $WORK/resolv.conf" "default = block"
	if ! start_daemon; then
		tap_fail "daemon starts with its resolver" "$(tail -5 "$WORK/pmd.log")"
		return
	fi
	tap_is "status: resolver on, upstream from resolv.conf without itself" \
		"$(stat_of resolver) $(stat_of upstream)" "on 10.77.0.2@53"
	"$PMCTL" rule add allow --domain .allowed.test >/dev/null
	"$PMCTL" rule add allow --domain www.chain.test >/dev/null
	"$PMCTL" rule add block --domain refused.test >/dev/null
	"$PMCTL" rule add block --domain .bad.test >/dev/null
	"$PMCTL" -j monitor >"$WORK/rs-monitor.out" 2>&1 &
	local mon=$!
	sleep 0.3

	# default block: an address nobody resolved is matched by the other
	# rules only, and none allows it
	out=$(inc curl -sS -m 5 http://10.77.0.2/ 2>&1)
	tap_ok "by address, no domain: the default (block) applies" test "$out" != hello
	out=$(inc curl -sS -m 5 http://www.allowed.test/ 2>&1)
	tap_is "curl by name allowed by a --domain rule" "$out" "hello"
	tap_is "pmctl list -j: the connection has its domain" \
		"$(rs_flow 10.77.0.2 80)" "www.allowed.test - allow"
	out=$(inc curl -sS -m 5 http://refused.test/ 2>&1)
	case "$out" in
	*"resolve host"*) tap_pass "curl by a name a rule blocks: refused at DNS" ;;
	*) tap_fail "curl by a name a rule blocks: refused at DNS" "$out" ;;
	esac
	tap_is "the refused query is listed as a blocked flow" "$(rs_query_verdict refused.test)" "block"
	grep -q "refused.test" "$WORK/dnsmasq.log" &&
		tap_fail "a refused name never reaches the upstream" ||
		tap_pass "a refused name never reaches the upstream"
	rs_history_and_monitor "$mon"

	# CNAME chain: allowed by the name asked for; the chain on the flow
	out=$(inc curl -sS -m 5 http://www.chain.test/ 2>&1)
	tap_is "curl through a CNAME chain" "$out" "hello"
	tap_is "the connection carries the name and its CNAME chain" \
		"$(rs_flow 10.77.0.2 80)" "www.chain.test web.target.test allow"
	out=$(inc dig +short @127.0.0.17 cloaked.test)
	tap_is "a CNAME to a blocked domain blocks the name (CNAMEs only block)" \
		"$(inc dig @127.0.0.17 cloaked.test | grep -o 'status: [A-Z]*')" "status: NXDOMAIN"

	# Stray queries: to another server, rerouted to us (1799)
	tap_is "a stray UDP query to another server is answered by portmasterd" \
		"$(inc dig +time=3 +tries=1 @10.77.0.2 refused.test | grep -o 'status: [A-Z]*')" "status: NXDOMAIN"
	tap_is "and its flow is marked 1799" \
		"$(inc conntrack -L -p udp --orig-dst 10.77.0.2 --orig-port-dst 53 2>/dev/null | grep -o 'mark=1799' | sort -u)" "mark=1799"
	tap_is "a stray TCP query is rerouted too" \
		"$(inc dig +tcp +time=3 +tries=1 @10.77.0.2 refused.test | grep -o 'status: [A-Z]*')" "status: NXDOMAIN"
	tap_is "TCP DNS at the resolver" \
		"$(inc dig +tcp +short +time=3 +tries=1 @127.0.0.17 web.target.test)" "10.77.0.2"
	tap_is "IPv6 resolver at [::1]:53" \
		"$(inc dig +short +time=3 +tries=1 @::1 web.target.test)" "10.77.0.2"

	# A long answer: truncated over UDP without EDNS, whole over TCP
	out=$(inc dig +noedns +ignore +time=3 +tries=1 @127.0.0.17 big.test TXT)
	echo "$out" | grep -q 'flags: qr tc' &&
		tap_pass "a long answer over UDP without EDNS is truncated (TC)" ||
		tap_fail "a long answer over UDP without EDNS is truncated (TC)" "$out"
	tap_is "and whole over TCP" \
		"$(inc dig +tcp +short +time=3 +tries=1 @127.0.0.17 big.test TXT | wc -l)" "4"

	# No quiet bypass
	tap_is "prevent_bypass: Firefox's canary use-application-dns.net is NXDOMAIN" \
		"$(inc dig +time=3 +tries=1 @127.0.0.17 use-application-dns.net | grep -o 'status: [A-Z]*')" "status: NXDOMAIN"
	"$PMCTL" rule add allow --dst 10.77.0.2 --port 853 >/dev/null
	inc curl -sS -m 3 http://10.77.0.2:853/ >/dev/null 2>&1
	tap_is "prevent_bypass: DNS over TLS to another server is blocked, rules or not" \
		"$(rs_verdicts 853)" "['block']"
	echo "doh.test" >"$CONF/doh-endpoints.txt"
	echo "10.77.0.2" >>"$CONF/doh-endpoints.txt"
	kill -HUP "$DAEMON_PID"
	sleep 0.5
	tap_is "prevent_bypass: a DoH endpoint of the shipped list is refused at DNS" \
		"$(inc dig +time=3 +tries=1 @127.0.0.17 doh.test | grep -o 'status: [A-Z]*')" "status: NXDOMAIN"
	"$PMCTL" rule add allow --dst 10.77.0.2 --port 443 >/dev/null
	inc curl -sS -m 3 -k https://10.77.0.2:443/ >/dev/null 2>&1
	tap_is "prevent_bypass: connections to a listed DoH address (443) are blocked, rules or not" \
		"$(rs_verdicts 443)" "['block']"

	# Malformed queries, fuzzed: FORMERR or silence, never a crash
	out=$(inc python3 "$HERE/dnsfuzz.py" 127.0.0.17 53 600 $$)
	case "$out" in
	*" other 0") tap_pass "600 malformed queries: FORMERR or dropped, nothing else ($out)" ;;
	*) tap_fail "600 malformed queries: FORMERR or dropped, nothing else" "$out" ;;
	esac
	kill -0 "$DAEMON_PID" 2>/dev/null && [ "$(inc dig +short +time=3 +tries=1 @127.0.0.17 web.target.test)" = 10.77.0.2 ] &&
		tap_pass "the resolver still answers after them" ||
		tap_fail "the resolver still answers after them"
	stop_daemon TERM

	# Blocklists: hosts format and one domain a line; reloaded with SIGHUP
	printf '# a hosts file\n0.0.0.0 listed.test\n127.0.0.1 localhost\n0.0.0.0 a.example b.example\n' >"$WORK/hosts.txt"
	printf '# one a line\nother.example\n||adblock.example^\n' >"$WORK/domains.txt"
	rs_conf "resolv_conf = $WORK/resolv.conf" "blocklist = $WORK/hosts.txt $WORK/domains.txt" \
		"blocked_answer = zero"
	rm -f "$CONF/rules.conf"
	if ! start_daemon; then
		tap_fail "daemon starts with blocklists" "$(tail -5 "$WORK/pmd.log")"
		return
	fi
	tap_is "pmctl status: blocklist entries loaded" "$(stat_of blocklist_entries)" "5"
	tap_is "a listed domain's subdomain is blocked (blocked_answer = zero: 0.0.0.0)" \
		"$(inc dig +short +time=3 +tries=1 @127.0.0.17 www.listed.test)" "0.0.0.0"
	tap_is "a name not listed resolves" \
		"$(inc dig +short +time=3 +tries=1 @127.0.0.17 fine.test)" "10.77.0.2"
	"$PMCTL" rule add allow --domain www.listed.test >/dev/null
	tap_is "a rule that allows a listed name wins over the list" \
		"$(inc dig +short +time=3 +tries=1 @127.0.0.17 www.listed.test)" "10.77.0.2"
	echo "fine.test" >>"$WORK/domains.txt"
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 1 50); do [ "$(stat_of blocklist_entries)" = 6 ] && break; sleep 0.1; done
	tap_is "SIGHUP reloads the blocklists" "$(stat_of blocklist_entries)" "6"
	tap_is "a newly listed name is blocked" \
		"$(inc dig +short +time=3 +tries=1 @127.0.0.17 fine.test)" "0.0.0.0"
	stop_daemon TERM

	# A DNS-over-TLS upstream: unbound with a self-signed certificate
	if ! start_dot; then
		tap_fail "unbound serves DNS over TLS in the server namespace" "$(cat "$WORK/dot/log" 2>/dev/null)"
	else
		rs_conf "upstream = tls://10.77.0.2#dot.test" "tls_ca = $RS_CERT"
		if start_daemon; then
			tap_is "a DoT upstream (tls_ca): names resolve through it" \
				"$(inc dig +short +time=5 +tries=1 @127.0.0.17 web.dot.test)" "10.77.0.2"
			tap_is "its own upstream traffic on 853 is not taken for a bypass" \
				"$(inc conntrack -L -p tcp --dport 853 2>/dev/null | grep -o 'mark=[0-9]*' | sort -u)" "mark=1710"
			stop_daemon TERM
		else
			tap_fail "daemon starts with a DoT upstream" "$(tail -5 "$WORK/pmd.log")"
		fi
		rs_conf "upstream = tls://10.77.0.2#wrong.name" "tls_ca = $RS_CERT"
		if start_daemon; then
			tap_is "a DoT upstream whose certificate has another name is not used" \
				"$(inc dig +time=5 +tries=1 @127.0.0.17 web.dot.test | grep -o 'status: [A-Z]*')" "status: SERVFAIL"
			stop_daemon TERM
		fi
	fi

	# Bounds: beyond them a query is refused (SERVFAIL, a closed
	# connection), never answered by some other way
	rs_conf "upstream = 10.77.0.3" "dns_max_queries = 2"
	if start_daemon; then
		out=$(inc python3 "$HERE/dnsbounds.py" queries 127.0.0.17 6)
		case "$out" in
		"servfail "[4-6]" other 0 "*) tap_pass "over dns_max_queries: SERVFAIL at once ($out)" ;;
		*) tap_fail "over dns_max_queries: SERVFAIL at once" "$out" ;;
		esac
		out=$(inc python3 "$HERE/dnsbounds.py" tcp 127.0.0.17 140)
		tap_is "over 128 TCP connections: the rest are closed, the first still served" \
			"$out" "refused 12 answered 1"
		stop_daemon TERM
	else
		tap_fail "daemon starts with dns_max_queries" "$(tail -5 "$WORK/pmd.log")"
	fi

	# Its address taken: it says so and does not start half a firewall
	# (domain block rules would match nothing)
	# not through inc(): $! must be socat itself, or the kill below leaves
	# it holding the port for the tests after this one
	ip netns exec "$C" socat UDP4-RECVFROM:53,bind=127.0.0.17,fork EXEC:cat >/dev/null 2>&1 &
	local holder=$!
	PIDS+=($holder)
	wait_port "$C" udp 53
	rs_conf "upstream = 10.77.0.2"
	if start_daemon; then
		tap_fail "with 127.0.0.17:53 taken, portmasterd refuses to start"
		stop_daemon TERM
	else
		grep -q "cannot listen on 127.0.0.17:53/udp: Address already in use" "$WORK/pmd.log" &&
			tap_pass "with 127.0.0.17:53 taken, portmasterd refuses to start and says why" ||
			tap_fail "with 127.0.0.17:53 taken, portmasterd refuses to start and says why" \
				"$(tail -3 "$WORK/pmd.log")"
	fi
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	rm -rf "/etc/netns/$C"
	rm -f "$CONF/portmasterd.conf" "$CONF/doh-endpoints.txt"
}

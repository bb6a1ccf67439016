# portmasterd's resolver in module mode: dnsmasq in srv is the network's
# nameserver; the client's resolv.conf names portmasterd (127.0.0.17).  A
# query is attributed from the module's own event for its flow (pid and
# executable named in the sender's context); the connection that follows
# carries the name its program resolved; domain rules allow and refuse;
# the history records each query and each connection's domain.
# Stray DNS (1799) is rerouted to the resolver, by the module (or, a
# module that cannot, by the fallback's DNAT rules).
. tests/vm/lib.sh
PMD=$PWD/build/bin/portmasterd
PMCTL=$PWD/build/bin/pmctl
trap 'kill -KILL $PMD_PID 2>/dev/null; kill $DNSMASQ 2>/dev/null; rm -rf /etc/netns/cli; cleanup' EXIT

for t in dnsmasq curl dig python3; do
	command -v $t >/dev/null || { tap_skip "resolver in module mode" "$t missing"; tap_done; exit 0; }
done
pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
# not through in_srv: $! must be dnsmasq itself
ip netns exec srv dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.0.0.2 --pid-file= --user=root --local-ttl=60 \
	--address=/allowed.test/10.0.0.2 --address=/refused.test/10.0.0.2 \
	--host-record=web.target.test,10.0.0.2 --cname=www.chain.test,web.target.test \
	>/dev/null 2>&1 &
DNSMASQ=$!
mkdir -p "$T/www" && echo hello >"$T/www/index.html"
(cd "$T/www" && in_srv python3 -m http.server --bind 10.0.0.2 80 >/dev/null 2>&1) &
SERVERS="${SERVERS:-} $!"
wait_port srv 53 u && wait_port srv 80 t || tap_fail "dnsmasq and the web server start"
mkdir -p /etc/netns/cli
echo "nameserver 127.0.0.17" >/etc/netns/cli/resolv.conf

mkdir -p "$T/conf"
printf 'mode = kmod\nupstream = 10.0.0.2\ndefault = block\n' >"$T/conf/portmasterd.conf"
# not through in_cli: $! must be the daemon itself
ip netns exec cli "$PMD" --mode kmod --foreground --config "$T/conf" --socket "$T/ctl.sock" \
	--history "$T/history.db" --ui off >>"$T/pmd.log" 2>&1 &
PMD_PID=$!
pmctl() { ip netns exec cli "$PMCTL" -s "$T/ctl.sock" "$@"; }
wait_until 20 pmctl status >/dev/null && tap_pass "portmasterd starts in module mode with its resolver" ||
	tap_fail "portmasterd starts in module mode with its resolver" "$(cat "$T/pmd.log")"
tap_is "status: module mode, resolver on" \
	"$(pmctl -t status | awk -F'\t' '$1 == "mode" || $1 == "resolver" {print $2}' | tr '\n' ' ')" "kmod on "
pmctl rule add allow --domain .allowed.test >/dev/null
pmctl rule add allow --domain www.chain.test >/dev/null
pmctl rule add block --domain refused.test >/dev/null

# flow_of DPORT FIELD...: fields of the newest listed TCP flow to DPORT
flow_of() {
	pmctl -j list | python3 -c '
import json, sys
m = [f for f in json.load(sys.stdin) if f["dport"] == int(sys.argv[1]) and f["proto"] == sys.argv[2]]
m.sort(key=lambda f: f["id"])	# the newest flow, not the one that spoke last
print(" ".join(str(m[-1][k]) for k in sys.argv[3:]) if m else "none")' "$@"
}

out=$(in_cli curl -sS -m 10 http://10.0.0.2/ 2>&1)
[ "$out" != hello ] && tap_pass "by address, no domain: the default (block) applies" ||
	tap_fail "by address, no domain: the default (block) applies" "$out"
out=$(in_cli curl -sS -m 10 http://www.allowed.test/ 2>&1)
tap_is "curl by a name a --domain rule allows" "$out" hello
tap_is "the connection has the name, and curl as its program" \
	"$(flow_of 80 tcp domain exe verdict)" "www.allowed.test /usr/bin/curl allow"
tap_is "with domain rules, no verdict is remembered by address in the module" \
	"$(pmctl -t status | awk -F'\t' '$1 == "remembered" {print $2}')" 0
tap_is "its query was attributed from the module's event (curl, not unknown)" \
	"$(pmctl -j list | python3 -c '
import json, sys
m = [f for f in json.load(sys.stdin) if f["domain"] == "www.allowed.test" and f["dport"] == 53]
print(m[-1]["exe"] if m else "none")')" /usr/bin/curl
out=$(in_cli curl -sS -m 10 http://refused.test/ 2>&1)
case "$out" in
*"resolve host"*) tap_pass "curl by a name a rule blocks: refused at DNS" ;;
*) tap_fail "curl by a name a rule blocks: refused at DNS" "$out" ;;
esac
out=$(in_cli curl -sS -m 10 http://www.chain.test/ 2>&1)
tap_is "curl through a CNAME chain" "$out" hello
tap_is "the connection carries the name and its CNAME chain" \
	"$(flow_of 80 tcp domain cnames)" "www.chain.test web.target.test"
# The history has every query, by its program, and each connection with
# its domain (as in the fallback, tests/host/t_resolver.sh).
hist() {
	pmctl -j history "$@" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["kind"], r["exe"], r["domain"], r["port"] if r["kind"] == "flow" else "-", r["verdict"])'
}
for _ in $(seq 1 50); do
	hist --dns | grep -q "^dns /usr/bin/curl refused.test - block$" && break
	sleep 0.2
done
tap_is "history: curl's queries, allowed and refused, in module mode" \
	"$(hist --dns | grep -E "^dns /usr/bin/curl (www.allowed.test - allow|refused.test - block)$" | sort -u | wc -l)" 2
tap_is "history: the connection's row carries its domain" \
	"$(hist --flows | grep -c "^flow /usr/bin/curl www.allowed.test 80 allow$")" 1
tap_is "TCP DNS at the resolver" "$(in_cli dig +tcp +short +time=5 +tries=1 @127.0.0.17 web.target.test)" 10.0.0.2
# Stray DNS gets 1799 and goes to portmasterd's resolver: the module DNATs
# it (PM_CONFIG_A_REROUTE_DNS), or, a module that cannot, the same DNAT
# rules as the fallback.  A name a rule refuses tells which server
# answered: dnsmasq would give its address.
out=$(in_cli dig +time=3 +tries=1 @10.0.0.2 refused.test 2>&1)
case "$out" in
*"status: NOERROR"*"refused.test."*"10.0.0.2"*)
	tap_fail "stray DNS is rerouted (1799) and answered by portmasterd" "$out" ;;
*"status: "*) tap_pass "stray DNS is rerouted (1799) and answered by portmasterd" ;;
*) tap_fail "stray DNS is rerouted (1799) and answered by portmasterd" "$out" ;;
esac
# (the resolver's own query upstream goes to the same place, as 1710)
tap_is "it carries mark 1799, and was answered from the resolver's address" \
	"$(in_cli conntrack -L -p udp --orig-dst 10.0.0.2 --orig-port-dst 53 --reply-src 127.0.0.17 2>/dev/null | grep -o 'mark=[0-9]*' | sort -u)" \
	"mark=1799"

kill -TERM $PMD_PID
wait $PMD_PID
tap_is "SIGTERM: portmasterd exits cleanly" "$?" 0
tap_ok "module unloads" pm_unload
tap_done

# What a user does, run the same way in both modes: the fallback on this
# machine's kernel (tests/host/t_scenarios.sh) and the module in qemu
# (tests/vm/t-scenarios.sh).  Source it after defining:
#
#   SC_MODE            fallback or module (for the messages)
#   SC_SRV4, SC_SRV4B  two IPv4 addresses of the server namespace
#   SC_WORK            a scratch directory
#   sc_cli CMD...      runs CMD in the client namespace, where the daemon is
#   sc_srv_bg CMD...   starts CMD in the server namespace, in the background
#   sc_cli_bg CMD...   likewise in the client namespace
#   sc_pmctl ARGS...   pmctl against the running daemon
#   sc_daemon TEXT     (re)starts the daemon with TEXT as portmasterd.conf
#                      and no rules; succeeds once it answers
#
# then call sc_run_all.  Every scenario starts its own daemon and servers.
# shellcheck shell=bash

SC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# What the kernel shows as python's executable (python3 may be a wrapper).
SC_PY=$(python3 -c 'import os; print(os.readlink("/proc/self/exe"))')
SC_SOCAT=$(readlink -f "$(command -v socat)")

# The newest flow to DPORT (from SPORT when given): one field of pmctl -j list.
sc_flow() { # DPORT FIELD [SPORT]
	sc_pmctl -j list | python3 -c '
import json, sys
dport, field, sport = int(sys.argv[1]), sys.argv[2], sys.argv[3]
v = ""
for f in json.load(sys.stdin):
    if f["dport"] == dport and (not sport or f["sport"] == int(sport)):
        v = f[field]
print(v)' "$1" "$2" "${3:-}"
}

sc_rule_field() { # RULE-ID FIELD
	sc_pmctl -j rule list | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["id"] == int(sys.argv[1]):
        print(r.get(sys.argv[2], ""))' "$1" "$2"
}

sc_pending_id() { # DPORT: the oldest pending flow to it
	sc_pmctl -t pending | awk -F'\t' -v p="$1" '$7 == p { print $1; exit }'
}

sc_wait() { # TIMEOUT_S CMD...: poll until CMD succeeds
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}

sc_npending() { sc_pmctl -t pending | wc -l; }
# Conditions to poll (sc_wait runs them again each time).
sc_has_pending() { [ -n "$(sc_pending_id "$1")" ]; }
sc_npending_is() { [ "$(sc_npending)" = "$1" ]; }
sc_mark_not() { [ "$(sc_ct_mark "$1" "$2")" != "$3" ]; }
sc_lines_are() { [ "$(cat "${@:2}" 2>/dev/null | wc -l)" = "$1" ]; }

sc_ct_mark() { # PROTO DPORT: the marks of the client's entries to DPORT
	sc_cli conntrack -L -p "$1" --dport "$2" 2>/dev/null | grep -o 'mark=[0-9]*' | sort -u | tr '\n' ' '
}

sc_servers() {
	sc_srv_bg python3 "$SC_DIR/echo.py" tcp/7008 udp/7007 tcp/9717
	sc_srv_bg python3 "$SC_DIR/echo.py" --say tunnel --bind "$SC_SRV4B" tcp/7717
	sc_srv_bg python3 "$SC_DIR/echo.py" --say remote udp/53
	sc_cli_bg python3 "$SC_DIR/echo.py" --say local --bind 127.0.0.1 udp/53
	sc_wait 5 sc_probe
}

sc_probe() {
	[ "$(echo x | sc_cli socat -t 1 - "TCP4:$SC_SRV4:7008" 2>/dev/null)" = x ] &&
		[ "$(echo x | sc_cli socat -t 1 - "TCP4:$SC_SRV4B:7717" 2>/dev/null)" = tunnel:x ]
}

# Program B sends from the local port program A used a moment ago, to the
# same peer: a new conntrack entry, so a new flow, named after B and decided
# by B's rule, not A's.
sc_port_reuse() { # udp|tcp
	local p=$1 port=7007 sport=41007 out rule_a pid
	[ "$p" = tcp ] && port=7008 sport=41008
	if ! sc_daemon ""; then
		tap_fail "$SC_MODE: daemon starts for the $p port-reuse scenario"
		return
	fi
	rule_a=$(sc_pmctl -t rule add allow --exe "$SC_SOCAT" --until-restart | cut -f1)
	sc_pmctl rule add block --exe "$SC_PY" --until-restart >/dev/null
	out=$(echo a | sc_cli socat -t 2 - "${p^^}4:$SC_SRV4:$port,sourceport=$sport,reuseaddr" 2>&1)
	tap_is "$SC_MODE $p: program A (socat, allowed) gets its answer from port $sport" "$out" a
	tap_is "$SC_MODE $p: A's flow is listed as socat's" "$(sc_flow $port exe $sport)" "$SC_SOCAT"
	# UDP: A's conntrack entry ends (it would time out; we do not wait).
	# TCP: A's entry is in TIME_WAIT, and B's SYN makes conntrack start a
	# new one.
	[ "$p" = udp ] && sc_cli conntrack -D -p udp --orig-port-src $sport >/dev/null 2>&1
	out=$(sc_cli sh -c 'echo $$ >"$1"; exec python3 "$2" "$3" "$4" "$5" --sport "$6" --timeout 2' \
		_ "$SC_WORK/b.pid" "$SC_DIR/client.py" "$p" "$SC_SRV4" "$port" "$sport" 2>&1)
	pid=$(cat "$SC_WORK/b.pid")
	case $out in
	error:*) tap_pass "$SC_MODE $p: program B (python3, blocked) from the same port gets nothing ($out)" ;;
	*) tap_fail "$SC_MODE $p: program B (python3, blocked) from the same port gets nothing" "$out" ;;
	esac
	tap_is "$SC_MODE $p: B's flow is listed with B's pid and executable" \
		"$(sc_flow $port pid $sport) $(sc_flow $port exe $sport)" "$pid $SC_PY"
	tap_is "$SC_MODE $p: B's flow was blocked by B's rule" "$(sc_flow $port verdict $sport)" block
	tap_is "$SC_MODE $p: A's rule counted A only" "$(sc_rule_field "$rule_a" hits)" 1
}

# After "pmctl verdict ID accept", a rule for that program stops the same
# connection; a scoped answer is a rule, and decides what waits with it.
sc_answers() {
	local id out n rid
	rm -f "$SC_WORK/go"
	if ! sc_daemon "prompt_timeout = 30s"; then
		tap_fail "$SC_MODE: daemon starts for the answers scenario"
		return
	fi
	sc_pmctl default ask >/dev/null
	sc_cli conntrack -D -p tcp --dport 7008 >/dev/null 2>&1
	sc_cli_bg sh -c "exec python3 '$SC_DIR/client.py' hold $SC_SRV4 7008 --go '$SC_WORK/go' --timeout 5 >'$SC_WORK/hold.out' 2>&1"
	if ! sc_wait 10 sc_has_pending 7008; then
		tap_fail "$SC_MODE: a new connection under default ask waits for its answer"
		return
	fi
	id=$(sc_pending_id 7008)
	tap_ok "$SC_MODE: pmctl verdict $id accept" sc_pmctl verdict "$id" accept
	sc_wait 5 grep -q '^1:' "$SC_WORK/hold.out"
	tap_is "$SC_MODE: the answered connection works" "$(head -n1 "$SC_WORK/hold.out")" "1:one"
	tap_is "$SC_MODE: the answer is kept on the connection (1710), no rule made" \
		"$(sc_ct_mark tcp 7008)$(sc_pmctl -t rule list | wc -l)" "mark=1710 0"
	sc_pmctl rule add block --exe "$SC_PY" --until-restart >/dev/null
	# the connection is decided again at its next packet (its mark cleared)
	sc_wait 5 sc_mark_not tcp 7008 "mark=1710 "
	touch "$SC_WORK/go"
	sc_wait 8 grep -q '^2:' "$SC_WORK/hold.out"
	out=$(sed -n 2p "$SC_WORK/hold.out")
	case $out in
	2:error:*) tap_pass "$SC_MODE: a later 'rule add block --exe python3' stops that connection ($out)" ;;
	*) tap_fail "$SC_MODE: a later 'rule add block --exe python3' stops that connection" "$out" ;;
	esac
	tap_is "$SC_MODE: nobody was asked about it again" "$(sc_npending)" 0

	# A scoped answer: a rule of the flow's exe and port, first in the list.
	sc_pmctl rule del "$(sc_pmctl -t rule list | cut -f1)" >/dev/null
	for i in 1 2; do
		sc_cli_bg sh -c "exec python3 '$SC_DIR/client.py' udp $SC_SRV4 7007 --msg m$i --timeout 20 >'$SC_WORK/u$i.out' 2>&1"
	done
	if ! sc_wait 10 sc_npending_is 2; then
		tap_fail "$SC_MODE: two flows of one program wait for an answer" "$(sc_pmctl pending)"
		return
	fi
	id=$(sc_pending_id 7007)
	out=$(sc_pmctl -t verdict "$id" allow --until-restart --match exe,port)
	rid=$(echo "$out" | cut -f1)
	tap_is "$SC_MODE: 'verdict --until-restart --match exe,port' adds that rule" \
		"$(sc_rule_field "$rid" action) $(sc_rule_field "$rid" scope) $(sc_rule_field "$rid" exe) $(sc_rule_field "$rid" port) $(sc_rule_field "$rid" dst)" \
		"allow until-restart $SC_PY 7007 "
	sc_wait 5 sc_lines_are 2 "$SC_WORK/u1.out" "$SC_WORK/u2.out"
	tap_is "$SC_MODE: and the other waiting flow it matches is decided by it at once" \
		"$(sort "$SC_WORK/u1.out" "$SC_WORK/u2.out" | tr '\n' ' ')" "m1 m2 "
	sc_npending_is 0 && tap_pass "$SC_MODE: nothing waits any more" ||
		tap_fail "$SC_MODE: nothing waits any more" "$(sc_pmctl pending)"
	out=$(sc_cli python3 "$SC_DIR/client.py" udp "$SC_SRV4" 7007 --msg m3 --timeout 5)
	tap_is "$SC_MODE: a later flow of that program to that port is not asked" "$out" m3
	n=$(sc_rule_field "$rid" hits)
	[ "${n:-0}" -ge 2 ] && tap_pass "$SC_MODE: the rule counts what it decided ($n)" ||
		tap_fail "$SC_MODE: the rule counts what it decided" "hits=$n"
}

# 1799: stray DNS goes to our nameserver; 1717: a tunnel rule's flows go to
# the tunnel entry.  The fallback has the seed's NAT rules; the module
# redirects by itself (or, a module too old for that, through the same NAT
# rules).
sc_reroutes() {
	local out
	if ! sc_daemon "$(printf 'reroute_dns = yes\nnameserver = 127.0.0.1:53\ntunnel = %s:7717\n' "$SC_SRV4B")"; then
		tap_fail "$SC_MODE: daemon starts with reroute_dns and a tunnel"
		return
	fi
	sc_cli conntrack -D -p udp --dport 53 >/dev/null 2>&1
	out=$(sc_cli python3 "$SC_DIR/client.py" udp "$SC_SRV4" 53 --msg q)
	tap_is "$SC_MODE reroute_dns: a query to another server is answered by our nameserver" "$out" "local:q"
	tap_is "$SC_MODE reroute_dns: the flow carries mark 1799" "$(sc_ct_mark udp 53)" "mark=1799 "
	out=$(sc_cli python3 "$SC_DIR/client.py" udp 127.0.0.1 53 --msg q)
	tap_is "$SC_MODE reroute_dns: a query to the nameserver itself is left alone" "$out" "local:q"
	sc_pmctl rule add tunnel --port 9717 --until-restart >/dev/null
	out=$(sc_cli python3 "$SC_DIR/client.py" tcp "$SC_SRV4" 9717 --msg t)
	tap_is "$SC_MODE tunnel: a 'tunnel' rule's connection reaches the tunnel entry" "$out" "tunnel:t"
	tap_is "$SC_MODE tunnel: the flow carries mark 1717" "$(sc_ct_mark tcp 9717)" "mark=1717 "
	out=$(sc_cli python3 "$SC_DIR/client.py" tcp "$SC_SRV4" 7008 --msg d)
	tap_is "$SC_MODE tunnel: other connections go where they were sent" "$out" d
}

sc_run_all() {
	if ! sc_servers; then
		tap_fail "$SC_MODE: scenario servers start"
		return
	fi
	sc_port_reuse udp
	sc_port_reuse tcp
	sc_answers
	sc_reroutes
}

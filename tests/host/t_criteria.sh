# The rules people write, in the fallback for real: programs told apart by
# command line (two scripts under one python3), by unit and cgroup (a
# process in a cgroup v2 directory named as systemd names a unit), by
# parent; peers by scope; ports by list; rules.conf before rules.d in
# order; the flow's captured fields in pmctl list; export and import;
# pmctl apps.

# A connection to 10.77.0.2:PORT from a python script: "ok" or "error".
crit_client() {
	printf '%s\n' 'import socket, sys' \
		'try:' \
		'    s = socket.create_connection(("10.77.0.2", int(sys.argv[1])), timeout=3)' \
		'    print(s.recv(64).decode().strip())' \
		'except OSError:' \
		'    print("error")' >"$1"
}

# The cgroup v2 mount, wherever it is (beside v1 on hybrid hosts).
cg2_root() { awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo; }

t_criteria() {
	local out rc cg made_slice="" unit=demo-$$.service
	mkdir -p "$CONF" && rm -rf "$CONF/rules.d" "$CONF/rules.conf"
	crit_client "$WORK/good.py"
	crit_client "$WORK/bad.py"
	cp "$(command -v bash)" "$WORK/launcher"
	{
		echo "# mine: keep this comment"
		echo "block cmdline=*/bad.py%20* port=8080 note=the%20bad%20script"
		echo "block parent=$WORK/launcher port=8080"
		echo "block unit=$unit port=8081"
		echo "block cgroup=/system.slice/demo-$$.* port=8082"
		echo "allow port=8083"
	} >"$CONF/rules.conf"
	mkdir -p "$CONF/rules.d"
	printf 'block port=8083,8084\nblock remote=10.77.0.0/24 port=http,8189-8190\n' >"$CONF/rules.d/10-a.conf"
	printf 'allow port=8084\n' >"$CONF/rules.d/20-b.conf"
	{
		echo "block exe=/usr/*/so[c]at port=8085"
		echo "block user=nobody port=8086"
		echo "block group=nogroup port=8087"
		echo "block local=fd77::/64 port=8088"
		echo "block proto=icmp icmp-type=echo-request remote=10.77.0.2"
	} >"$CONF/rules.d/30-more.conf"
	start_server tcp python3 "$HERE/oksrv.py" 8083 8084 8085 8086 8087 8088
	wait_port "$S" tcp 8088
	if ! start_daemon; then
		tap_fail "daemon starts with rules.conf and rules.d" "$(tail -3 "$WORK/pmd.log")"
		return
	fi
	"$PMCTL" default allow >/dev/null
	tap_is "rules.conf then rules.d in lexical order: 13 rules" "$(stat_of rules)" 13
	tap_is "--cmdline: two scripts under one python3 told apart" \
		"$(inc python3 "$WORK/good.py" 8080) $(inc python3 "$WORK/bad.py" 8080)" "ok error"
	# (a command after it: bash would exec a lone one, and be no parent)
	tap_is "--parent: the same script, blocked only under the launcher" \
		"$(inc python3 "$WORK/good.py" 8080) $(inc "$WORK/launcher" -c "python3 '$WORK/good.py' 8080; true")" \
		"ok error"
	cg=$(cg2_root)
	if [ -z "$cg" ] || ! mkdir -p "$cg/system.slice/$unit" 2>/dev/null; then
		tap_skip "--unit and --cgroup" "no writable cgroup v2 hierarchy here"
	else
		# the shell moves itself into the unit's cgroup (outside ip netns
		# exec, which mounts a /sys of its own), then runs the client
		in_unit() { sh -c "echo \$\$ >'$cg/system.slice/$unit/cgroup.procs' && exec ip netns exec '$C' python3 '$WORK/good.py' $1"; }
		tap_is "--unit: a process in system.slice/$unit is blocked; the same program outside is not" \
			"$(in_unit 8081) $(inc python3 "$WORK/good.py" 8081)" "error ok"
		tap_is "--cgroup: a glob on the cgroup path" \
			"$(in_unit 8082) $(inc python3 "$WORK/good.py" 8082)" "error ok"
		out=$("$PMCTL" -j list | python3 -c '
import json, sys
for f in json.load(sys.stdin):
    if f["dport"] == 8081 and f["unit"] != "-":
        prog = f["cmdline"].split()[0].rsplit("/", 1)[-1]
        print(f["unit"], f["cgroup"], prog.startswith("python3"), f["verdict"]); break')
		tap_is "pmctl list shows the unit, cgroup and command line captured with the flow" \
			"$out" "$unit /system.slice/$unit True block"
		rmdir "$cg/system.slice/$unit" 2>/dev/null
		rmdir "$cg/system.slice" 2>/dev/null	# only if nobody else uses it
	fi
	out=$("$PMCTL" -j list | python3 -c '
import json, sys
print(any("'"$WORK"'/launcher" in f["parents"].split() for f in json.load(sys.stdin)))')
	tap_is "pmctl list shows the parents captured with the flow" "$out" "True"
	tap_is "rules.conf before rules.d; 10-a before 20-b; port lists and service names" \
		"$(inc python3 "$WORK/good.py" 8083) $(inc python3 "$WORK/good.py" 8084) $(inc curl -sS -m 5 http://10.77.0.2/ >/dev/null 2>&1; echo $?)" \
		"ok error 7"
	sc() {	# [wrapper...]: socat to $host:$port, "ok" or ""
		local a=$host
		[[ $a == *:* ]] && a="[$a]"
		inc "$@" socat -T3 - "TCP:$a:$port" </dev/null 2>/dev/null | head -c2; echo
	}
	host=10.77.0.2 port=8085
	tap_is "--exe with a glob: socat blocked, python3 not" \
		"$(sc) $(inc python3 "$WORK/good.py" 8085)" " ok"
	port=8086
	tap_is "--user by name: socat as nobody blocked, as root not (nobody elsewhere not)" \
		"$(sc setpriv --reuid=nobody --regid=nogroup --clear-groups) $(sc) $(port=8083; sc setpriv --reuid=nobody --regid=nogroup --clear-groups)" " ok ok"
	port=8087
	tap_is "--group by name: socat with group nogroup blocked, with root's not (elsewhere not)" \
		"$(sc setpriv --regid=nogroup --clear-groups) $(sc) $(port=8083; sc setpriv --regid=nogroup --clear-groups)" " ok ok"
	port=8088
	tap_is "--local: our IPv6 side blocked, our IPv4 side not (and IPv6 to another port not)" \
		"$(host=fd77::2; sc) $(sc) $(host=fd77::2 port=8083; sc)" " ok ok"
	out=$(inc ping -c1 -W2 10.77.0.2 >/dev/null 2>&1; echo $?; inc ping -c1 -W2 fd77::2 >/dev/null 2>&1; echo $?)
	tap_is "--icmp-type echo-request with --remote: ping to it blocked, to another address not" \
		"$(echo $out)" "1 0"
	out=$("$PMCTL" rule del 6 2>&1)
	tap_is "a rule of rules.d is the admin's: pmctl refuses to delete it, and says where it is" \
		"$(echo "$out" | grep -c "$CONF/rules.d/10-a.conf:1")" 1
	"$PMCTL" rule add block --remote localhost --port 9 --note "pmctl's" >/dev/null
	tap_is "an --always rule goes into rules.conf, after its rules, comments kept; rules.d untouched" \
		"$(grep -c '^# mine: keep this comment$' "$CONF/rules.conf") $(tail -n 1 "$CONF/rules.conf") $(cat "$CONF/rules.d/20-b.conf")" \
		"1 block remote=localhost port=9 note=pmctl's allow port=8084"
	inc sh -c 'python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 9)); s.listen(); import time; time.sleep(8)" &
		sleep 0.5; python3 -c "
import socket
try:
    socket.create_connection((\"127.0.0.1\", 9), timeout=2); print(\"connected\")
except OSError: print(\"refused\")"' >"$WORK/lo.out" 2>&1
	tap_is "--remote localhost: a loopback connection is that rule's" "$(cat "$WORK/lo.out")" "refused"
	# export, then an import with an error at line 4: nothing applied
	"$PMCTL" rule export "$WORK/exported.conf"
	tap_is "rule export writes the rules in effect as a rules file" \
		"$(grep -c '^block\|^allow' "$WORK/exported.conf") $(grep -c '^default allow$' "$WORK/exported.conf")" "14 1"
	printf '# new\nallow port=7001 note=imported\n\nallow port=70000\n' >"$WORK/bad.conf"
	out=$("$PMCTL" rule import "$WORK/bad.conf" 2>&1); rc=$?
	tap_is "rule import with an error: FILE:LINE, nonzero exit, nothing applied" \
		"$rc $(echo "$out" | grep -c "$WORK/bad.conf:4: bad port '70000'") $(stat_of rules)" "1 1 14"
	{ printf '# imported ones\n'; for i in $(seq 1 300); do printf 'allow port=%d note=n%d\n' $((20000 + i)) "$i"; done; } >"$WORK/good.conf"
	out=$("$PMCTL" -t rule import "$WORK/good.conf" 2>&1)
	tap_is "rule import of 300 rules (several pieces): all added, once, comments kept" \
		"$out $(stat_of rules) $(grep -c '^# imported ones$' "$CONF/rules.conf")" "300	0 314 1"
	out=$("$PMCTL" -t rule import "$WORK/good.conf" 2>&1)
	tap_is "importing it again adds none" "$out $(stat_of rules)" "0	300 314"
	# python3 is whatever executable runs the scripts here (pyenv has shims)
	py=$(inc python3 -c 'import os; print(os.path.realpath("/proc/self/exe"))')
	"$PMCTL" -t apps >"$WORK/apps.out"
	out=$(awk -F'\t' -v py="$py" '$1 == py { print ($2 > 0), ($3 > 0) }' "$WORK/apps.out")
	tap_is "pmctl apps: python3 with connections allowed and blocked" "$out" "1 1"
	[ "$out" = "1 1" ] || tap_diag "$(cat "$WORK/apps.out")"
	if [ -n "$cg" ]; then
		out=$("$PMCTL" -j apps show "$unit" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r[0]["app"], r[0]["blocked"], r[1]["line"])')
		tap_is "pmctl apps show UNIT: a service is a program of its own, with its rules" \
			"$out" "$unit 2 block unit=$unit port=8081"
	fi
	stop_daemon TERM
	rm -rf "$CONF/rules.d" "$CONF/rules.conf"
}

# The rules people write, in module mode: the kernel captures the socket's
# cgroup id and the sender's parent with the owner, at the packet's
# moment; portmasterd finds the cgroup's path in the guest's own cgroup v2
# mount and decides by --cmdline (two scripts under one python3), --unit
# and --cgroup (a process in system.slice/demo.service), --parent (a
# child of a launcher), --remote scopes and port lists, rules.conf before
# rules.d.
. tests/vm/lib.sh
PMD=$PWD/build/bin/portmasterd
PMCTL=$PWD/build/bin/pmctl
PY=/usr/bin/python3
trap 'kill -KILL $PMD_PID 2>/dev/null; rmdir "$CG/system.slice/demo.service" "$CG/system.slice" 2>/dev/null; cleanup' EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
for p in 8601 8602 8603 8604 8605 8606 8607 8608; do srv_tcp $p; done
srv_tcp 8608 v6
srv_tcp 8609
srv_tcp 8609 v6
wait_port srv 8609 t

# A connection from a python script: the server's line, or "error".
printf '%s\n' 'import socket, sys' 'try:' \
	'    s = socket.create_connection(("10.0.0.2", int(sys.argv[1])), timeout=5)' \
	'    print(s.makefile().readline().strip() or "error")' \
	'except OSError:' '    print("error")' >"$T/good.py"
cp "$T/good.py" "$T/bad.py"
cp /bin/bash "$T/launcher"
CG=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
# Into the client namespace by its network namespace alone: "ip netns
# exec" also gives a mount namespace of its own, and in this chroot'ed
# guest /proc/PID/exe across mount namespaces reads with the chroot's
# prefix; a real system shares one.
in_net() { nsenter --net=/run/netns/cli "$@"; }

mkdir -p "$T/conf/rules.d"
sed -e 's/^mode = .*/mode = kmod/' config/portmasterd.conf >"$T/conf/portmasterd.conf"
{
	echo "# the guest's own rules"
	echo "block cmdline=*/bad.py%20* port=8601"
	echo "block parent=$T/launcher port=8601"
	echo "block unit=demo port=8602"
	echo "block cgroup=system.slice/demo.* port=8603"
	echo "allow port=8605"
} >"$T/conf/rules.conf"
printf 'block remote=lan port=8604-8605\n' >"$T/conf/rules.d/50-lan.conf"
{
	echo "block exe=/usr/*/so[c]at port=8606"
	echo "block user=nobody port=8607"
	echo "block group=nogroup port=8608"
	echo "block local=fd00::/64 port=8609"
	echo "block proto=icmp icmp-type=echo-request remote=10.0.0.2"
} >"$T/conf/rules.d/60-more.conf"

in_net "$PMD" --mode kmod --foreground --config "$T/conf" --socket "$T/ctl.sock" \
	--history off --ui off >>"$T/pmd.log" 2>&1 &
PMD_PID=$!
pmctl() { in_net "$PMCTL" -s "$T/ctl.sock" "$@"; }
wait_until 60 test -S "$T/ctl.sock" && wait_until 60 pmctl status >/dev/null &&
	tap_pass "portmasterd starts in module mode with rules.conf and rules.d" ||
	tap_fail "portmasterd starts in module mode with rules.conf and rules.d" "$(cat "$T/pmd.log")"
tap_is "11 rules, default allow" "$(pmctl -t status | awk -F'\t' '$1 == "rules" || $1 == "default" { printf "%s ", $2 }')" "allow 11 "

tap_is "--cmdline: two scripts under one python3 told apart" \
	"$(in_net $PY "$T/good.py" 8601) $(in_net $PY "$T/bad.py" 8601)" "hello error"
tap_is "--parent: the same script, blocked only as the launcher's child" \
	"$(in_net "$T/launcher" -c "$PY '$T/good.py' 8601; true")" "error"
if [ -z "$CG" ] || ! mkdir -p "$CG/system.slice/demo.service"; then
	tap_fail "a cgroup v2 directory system.slice/demo.service" "no cgroup2 mount: $CG"
else
	# the shell moves itself into the unit's cgroup, then runs the client
	in_unit() { sh -c "echo \$\$ >'$CG/system.slice/demo.service/cgroup.procs' && exec nsenter --net=/run/netns/cli $PY '$T/good.py' $1"; }
	tap_is "--unit: in system.slice/demo.service blocked, the same program outside not" \
		"$(in_unit 8602) $(in_net $PY "$T/good.py" 8602)" "error hello"
	tap_is "--cgroup: a glob on the cgroup path" \
		"$(in_unit 8603) $(in_net $PY "$T/good.py" 8603)" "error hello"
	out=$(pmctl -j list | $PY -c '
import json, sys
for f in json.load(sys.stdin):
    if f["dport"] == 8603 and f["verdict"] == "block":
        print(f["cgroup"], f["unit"], f["cgroup_id"]); break')
	tap_is "the flow's cgroup: the kernel's id, its path found in the guest's mount" \
		"$out" "/system.slice/demo.service demo.service $(stat -c %i "$CG/system.slice/demo.service")"
fi
out=$(pmctl -j list | $PY -c '
import json, sys
print(any("'"$T"'/launcher" in f["parents"].split() and f["verdict"] == "block" for f in json.load(sys.stdin)))')
tap_is "the launcher's child's flow lists the launcher among its parents" "$out" "True"
tap_is "--remote lan and a port range; rules.conf before rules.d" \
	"$(in_net $PY "$T/good.py" 8604) $(in_net $PY "$T/good.py" 8605)" "error hello"
sc() {	# ADDR PORT [wrapper...]: socat's line, or ""
	local a=$1 p=$2
	shift 2
	in_net "$@" socat -T5 - "TCP:$a:$p" </dev/null 2>/dev/null; echo
}
tap_is "--exe with a glob: socat blocked, python3 not" \
	"$(sc 10.0.0.2 8606) $(in_net $PY "$T/good.py" 8606)" " hello"
tap_is "--user: socat as nobody blocked, as root not" \
	"$(sc 10.0.0.2 8607 setpriv --reuid=nobody --regid=nogroup --clear-groups) $(sc 10.0.0.2 8607)" " hello"
tap_is "--group: socat with group nogroup blocked, with root's not" \
	"$(sc 10.0.0.2 8608 setpriv --regid=nogroup --clear-groups) $(sc 10.0.0.2 8608)" " hello"
tap_is "--local: our IPv6 side blocked, IPv4 not, IPv6 to another port not" \
	"$(sc '[fd00::2]' 8609) $(sc 10.0.0.2 8609) $(sc '[fd00::2]' 8608)" " hello hello"
out=$(in_net ping -c1 -W3 10.0.0.2 >/dev/null 2>&1; echo $?; in_net ping -c1 -W3 fd00::2 >/dev/null 2>&1; echo $?)
tap_is "--icmp-type echo-request with --remote: ping to it blocked, to another address not" \
	"$(echo $out)" "1 0"
[ "$TAP_FAILED" = 0 ] || { tap_diag "$(pmctl -j list | head -c 3000)"; tap_diag "$(tail -5 "$T/pmd.log")"; }
kill -TERM $PMD_PID
wait $PMD_PID 2>/dev/null
tap_done

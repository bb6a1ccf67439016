# A new flow raises exactly one event, with its identity and owner: the
# uid, gid, socket inode, pid, tgid, comm and executable of the process
# the test started, over IPv4 and IPv6, for TCP, UDP and ICMP, outbound
# and inbound; also for a process that sends one datagram and exits.
. tests/vm/lib.sh
trap cleanup EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
allow_user_ping cli
# this server keeps each connection open until its client leaves, so that
# the client can be looked at
in_srv socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello; sleep 30' >/dev/null 2>&1 &
SERVERS="$!"
in_srv socat TCP6-LISTEN:8080,fork,reuseaddr,ipv6only=1 SYSTEM:'echo hello; sleep 30' >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
srv_udp 5353
srv_udp 5353 v6
wait_port srv 8080 t
wait_port srv 5353 u
listener_start --answer 1710 || tap_fail "listener registers"

# check_owner DESC PATTERN PID COMM EXE: the event matching PATTERN names
# the process PID
check_owner() {
	local desc=$1 pat=$2 pid=$3 comm=$4 exe=$5 got want
	got="$(event_field pid "$pat") $(event_field tgid "$pat") $(event_field comm "$pat") $(event_field exe "$pat") $(event_field uid "$pat") $(event_field gid "$pat")"
	want="$pid $pid $comm $exe $TEST_UID $TEST_GID"
	tap_is "$desc: pid, tgid, comm, exe, uid, gid" "$got" "$want"
}

for fam in ipv4 ipv6; do
	if [ $fam = ipv4 ]; then dst=10.0.0.2 src=10.0.0.1 tcp=TCP udp=UDP; else
		dst=fd00::2 src=fd00::1 tcp=TCP6 udp=UDP6; fi
	daddr=$dst
	[ $fam = ipv6 ] && daddr="[$dst]"

	# TCP, a client that stays connected while we look at it: its input
	# ends when we are done (a fixed time is too short on a slow guest)
	{ until [ -e "$T/tcp-$fam.done" ]; do sleep 0.1; done; } |
		in_cli_user sh -c "echo \$\$ >'$T/tcp-$fam.pid'; exec socat - '$tcp:$daddr:8080'" >"$T/tcp-$fam.out" &
	client=$!
	wait_until 60 sh -c "grep -q 'family=$fam proto=6 .*dport=8080' '$T/events'"
	pid=$(cat "$T/tcp-$fam.pid")
	pat="family=$fam proto=6 src=$src dst=$dst .*dport=8080"
	tap_is "$fam TCP: one event" "$(events_count "$pat")" 1
	tap_is "$fam TCP: direction out" "$(event_field dir "$pat")" out
	check_owner "$fam TCP" "$pat" "$pid" socat /usr/bin/socat
	ino=$(event_field inode "$pat")
	if [ -n "$ino" ] && socket_inodes "$pid" | grep -qx "$ino"; then
		tap_pass "$fam TCP: socket inode $ino is the client's"
	else
		tap_fail "$fam TCP: socket inode is the client's" "event: $ino" "fds: $(socket_inodes "$pid" | tr '\n' ' ')"
	fi
	ifindex=$(in_cli cat /sys/class/net/veth0/ifindex)
	tap_is "$fam TCP: interface" "$(event_field ifindex "$pat")" "$ifindex"
	ctid=$(event_field ct "$pat")
	[ -n "$ctid" ] && [ "$ctid" != 0 ] && tap_pass "$fam TCP: conntrack id $ctid" ||
		tap_fail "$fam TCP: conntrack id" "got '$ctid'"
	touch "$T/tcp-$fam.done"
	wait "$client"
	tap_is "$fam TCP: the connection worked" "$(cat "$T/tcp-$fam.out")" hello
	tap_is "$fam TCP: still one event after the whole exchange" "$(events_count "$pat")" 1

	# UDP from a process that sends one datagram and exits at once
	in_cli_user sh -c "echo \$\$ >'$T/udp-$fam.pid'; exec socat -u - '$udp:$daddr:5353'" <<<ping
	pid=$(cat "$T/udp-$fam.pid")
	kill -0 "$pid" 2>/dev/null && tap_fail "$fam UDP: the sender has exited" ||
		tap_pass "$fam UDP: the sender (pid $pid) has exited"
	wait_until 60 sh -c "grep -q 'family=$fam proto=17 .*dport=5353' '$T/events'"
	pat="family=$fam proto=17 src=$src dst=$dst .*dport=5353"
	tap_is "$fam UDP: one event" "$(events_count "$pat")" 1
	check_owner "$fam UDP (exited sender)" "$pat" "$pid" socat /usr/bin/socat

	# ICMP echo
	icmp=1 echo=8
	[ $fam = ipv6 ] && icmp=58 echo=128
	in_cli_user sh -c "echo \$\$ >'$T/ping-$fam.pid'; exec ping -c 1 -W 2 $dst" >/dev/null
	tap_is "$fam ICMP: ping answered" "$?" 0
	pid=$(cat "$T/ping-$fam.pid")
	pat="family=$fam proto=$icmp src=$src dst=$dst"
	tap_is "$fam ICMP: one event" "$(events_count "$pat")" 1
	tap_is "$fam ICMP: type and code" "$(event_field icmp_type "$pat")/$(event_field icmp_code "$pat")" "$echo/0"
	check_owner "$fam ICMP" "$pat" "$pid" ping /usr/bin/ping
done

# Inbound: a listener in cli, owned by our user, and a client from srv.
in_cli_user socat -t 5 TCP-LISTEN:9090,reuseaddr SYSTEM:'echo in' >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port cli 9090 t
ino=$(ss_inode cli -t "sport = :9090")
out=$(in_srv socat -t 30 -T 3 - TCP:10.0.0.1:9090 </dev/null)
tap_is "inbound: the connection worked" "$out" in
pat="dir=in family=ipv4 proto=6 src=10.0.0.2 dst=10.0.0.1 .*dport=9090"
tap_is "inbound: one event, direction in" "$(events_count "$pat")" 1
tap_is "inbound: the listener's uid" "$(event_field uid "$pat")" $TEST_UID
tap_is "inbound: the listening socket's inode" "$(event_field inode "$pat")" "$ino"
tap_is "inbound: no pid (not sent from the owner's context)" "$(event_field pid "$pat")" ""

in_cli_user socat -t 5 TCP6-LISTEN:9091,reuseaddr,ipv6only=1 SYSTEM:'echo in6' >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port cli 9091 t
ino=$(ss_inode cli -t "sport = :9091")
out=$(in_srv socat -t 30 -T 3 - TCP6:[fd00::1]:9091 </dev/null)
tap_is "inbound IPv6: the connection worked" "$out" in6
pat="dir=in family=ipv6 proto=6 .*dport=9091"
tap_is "inbound IPv6: one event, direction in" "$(events_count "$pat")" 1
tap_is "inbound IPv6: the listener's uid and inode" \
	"$(event_field uid "$pat") $(event_field inode "$pat")" "$TEST_UID $ino"

tap_is "intercepted counts every flow" "$(stat_of intercepted)" "$(events_count)"
tap_is "every flow got its verdict" "$(stat_of verdict_1710)" "$(events_count)"
listener_stop
tap_ok "module unloads" pm_unload
tap_done

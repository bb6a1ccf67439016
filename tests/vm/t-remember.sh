# Remembered verdicts: a listener may ask that new flows like a decided
# one (same program, user, direction, protocol, peer and port) get the
# same verdict in the kernel for a while.  They are then decided in the
# hook, reported but not asked, until they expire, are pushed out by the
# bound, or are forgotten with PM_CMD_RESET; also while the listener hangs.
. tests/vm/lib.sh
trap cleanup EXIT

pm_load max_remembered=3 || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
for p in 8701 8702 8703 8704 8705 8706; do srv_tcp $p; done
wait_port srv 8706 t
cp /usr/bin/socat "$T/socat-copy"	# the same program at another inode

conn() { in_cli socat -t 30 -T 20 - TCP:10.0.0.2:$1 </dev/null 2>&1; }
questions() { events "dport=$1" | grep -vc decided=; }
reports() { events "dport=$1 .*decided=${2:-}" | wc -l; }

listener_start --answer 1710 --answer-port 8702=1711 --remember-ms 60000 ||
	tap_fail "listener registers"

tap_is "the first connection works" "$(conn 8701)" hello
tap_is "it was asked about" "$(questions 8701)" 1
ok=0
for i in 1 2 3 4 5; do [ "$(conn 8701)" = hello ] && ok=$((ok + 1)); done
tap_is "five more connections like it work" "$ok" 5
tap_is "none of them was asked about" "$(questions 8701)" 1
tap_is "each was reported, decided 1710" "$(reports 8701 1710)" 5
tap_is "counted as remembered" "$(stat_of remembered)" 5
tap_is "only one verdict was given" "$(stat_of verdict_1710)" 1
tap_is "their connections carry mark 1710" \
	"$(in_cli conntrack -L -p tcp --dport 8701 2>/dev/null | grep -c mark=1710)" 6
m=$(events "dport=8701 .*decided=" | tail -n 1 | tr ' ' '\n' | sed -n 's/^comm=//p')
tap_is "a report still names the process" "$m" socat

out=$(in_cli "$T/socat-copy" -T 20 - TCP:10.0.0.2:8701 </dev/null 2>&1)
tap_is "another program to the same peer works" "$out" hello
tap_is "another program is asked about" "$(questions 8701)" 2
out=$(in_cli_user socat -t 30 -T 20 - TCP:10.0.0.2:8701 </dev/null 2>&1)
tap_is "another user is asked about" "$(questions 8701)" 3
conn 8703 >/dev/null
tap_is "another port is asked about" "$(questions 8703)" 1

# A remembered block: refused in the kernel, not asked.  (Refused, not
# dropped: a dropped connect would wait out socat's connect timeout.
# The ICMP error may reach the socket only at the SYN's first
# retransmission: it is sent while connect() holds the socket.)
conn 8702 >/dev/null
t0=$(now_ms)
out=$(in_cli socat - TCP:10.0.0.2:8702,connect-timeout=30 </dev/null 2>&1)
dt=$(($(now_ms) - t0))
echo "$out" | grep -q "No route to host" &&
	tap_pass "a remembered block refuses ($dt ms)" ||
	tap_fail "a remembered block refuses" "$dt ms: $out"
tap_is "the blocked one was asked about once" "$(questions 8702)" 1
tap_is "and reported decided 1711 the second time" "$(reports 8702 1711)" 1
tap_is "its mark is 1711" "$(in_cli conntrack -L -p tcp --dport 8702 2>/dev/null | grep -c mark=1711)" 2

# Reset forgets them all.
in_cli "$PM_LISTENER" reset >/dev/null
conn 8701 >/dev/null
tap_is "after reset a flow is asked about again" "$(questions 8701)" 4
listener_stop

# The bound (max_remembered=3): the oldest makes room.
listener_start --answer 1710 --remember-ms 60000 || tap_fail "listener registers again"
for p in 8704 8705 8706 8703; do conn $p >/dev/null; done
conn 8704 >/dev/null
conn 8706 >/dev/null
tap_is "beyond the bound the oldest is forgotten" "$(questions 8704)" 2
tap_is "the newer ones are kept" "$(questions 8706)" 1
listener_stop

# Expiry.
# (20 s: the second connection must come within it however busy the
# guest; the third waits it out, counted from when the first had its
# answer, which is after the verdict was remembered.)
listener_start --answer 1710 --remember-ms 20000 || tap_fail "listener registers a third time"
conn 8705 >/dev/null
t0=$(now_ms)
conn 8705 >/dev/null
tap_is "within its time the verdict holds" "$(questions 8705)" 1
while [ $(($(now_ms) - t0)) -lt 21000 ]; do sleep 0.5; done
conn 8705 >/dev/null
tap_is "after its time the flow is asked about again" "$(questions 8705)" 2
listener_stop

# A listener that hangs: what it asked to remember still holds; the rest
# follows the fail policy at once.
listener_start --answer 1710 --answer-port 8702=1711 --remember-ms 60000 ||
	tap_fail "a listener registers to hang"
in_cli "$PM_LISTENER" config policy=open timeout=2000 >/dev/null
conn 8702 >/dev/null
kill -STOP "$LISTENER"
conn 8703 >/dev/null
tap_is "hung: the listener is taken as hung" "$(stat_of listener_state)" 3
out=$(conn 8702)
echo "$out" | grep -q "No route to host" && tap_pass "hung: a remembered block still refuses" ||
	tap_fail "hung: a remembered block still refuses" "$out"
tap_is "hung, fail open: a flow nothing was remembered for passes" "$(conn 8704)" hello
kill -CONT "$LISTENER"
listener_stop
in_cli "$PM_LISTENER" config timeout=30000 >/dev/null

# Only a permanent verdict can be remembered.
listener_start || tap_fail "a silent listener registers"
in_cli socat -t 30 -T 10 - TCP:10.0.0.2:8706,sourceport=40777 </dev/null >/dev/null 2>&1 &
client=$!
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 40777"
id=$(in_cli "$PM_LISTENER" flows | sed -n 's/^flow id=\([0-9]*\) .*sport=40777.*/\1/p')
tap_is "remembering a once-only verdict is refused (EINVAL)" \
	"$(in_cli "$PM_LISTENER" verdict "$id" 1700 5000 >/dev/null 2>&1; echo $?)" 22
tap_is "a permanent one is taken" "$(in_cli "$PM_LISTENER" verdict "$id" 1710 5000 >/dev/null 2>&1; echo $?)" 0
wait $client
listener_stop

# A program whose path is as long as a path can be (PATH_MAX - 1
# characters): its question and each report of it carry the whole path.
# Such a report cannot share a batch: it goes alone, after the batch that
# is waiting (the order kept), and none is lost, while another program's
# reports are being batched.
dir=$T/long
while [ $((4095 - ${#dir} - 1)) -gt 255 ]; do dir=$dir/$(printf '%0200d' 0); done
exe=$dir/$(printf "%0$((4095 - ${#dir} - 1))d" 0 | tr 0 s)
mkdir -p "$dir" && cp /usr/bin/socat "$exe"
tap_is "the long path is PATH_MAX - 1 characters" "${#exe}" 4095
lconn() { in_cli "$exe" -t 30 -T 20 - TCP:10.0.0.2:$1 </dev/null 2>&1; }
# how many questions (q) or reports (r) about port 8706 name the long
# path exactly
long_named() {
	if [ "$1" = q ]; then events "dport=8706 " | grep -v decided=; else
		events "dport=8706 .*decided=1710"; fi |
		tr ' ' '\n' | sed -n 's/^exe=//p' | grep -cxF "$exe"
}
listener_start --answer 1710 --remember-ms 60000 || tap_fail "listener registers for the long path"
tap_is "a program at a PATH_MAX - 1 path connects" "$(lconn 8706)" hello
tap_is "its question names the whole path" "$(long_named q)" 1
conn 8705 >/dev/null
for i in $(seq 1 20); do conn 8705 >/dev/null; done &
batched=$!
ok=0
for i in 1 2 3 4 5; do [ "$(lconn 8706)" = hello ] && ok=$((ok + 1)); done
wait $batched
tap_is "five more connections from the long path work" "$ok" 5
wait_until 30 test "$(long_named r)" -ge 5
tap_is "each is reported with the whole path" "$(long_named r)" 5
tap_is "it was asked about once" "$(long_named q)" 1
wait_until 30 test "$(reports 8705 1710)" -ge 20
tap_is "the batched reports beside them all came" "$(reports 8705 1710)" 20
tap_is "no report was lost" "$(stat_of event_failed)" 0
listener_stop
tap_ok "module unloads" pm_unload
tap_done

# Guest side of the packaging stage: a newcomer's path on a system where
# "make install" and "make dkms-install" ran (the host's, seen through the
# VM's root): only installed files are used.  modprobe loads the dkms
# module, the daemon's own family lookup loads it again after it was
# removed, a rule is added, an allowed curl succeeds, a blocked client is
# refused, and pmctl list shows both with their pids.
. tests/vm/lib.sh
PMD=/usr/local/sbin/portmasterd
PMCTL=/usr/local/bin/pmctl
trap 'kill -KILL $PMD_PID 2>/dev/null; cleanup' EXIT
kver=$(uname -r)

where=$(modinfo -n portmaster 2>&1)
case $where in
/lib/modules/$kver/updates/dkms/portmaster.ko*) tap_pass "modinfo finds the dkms module ($where)" ;;
*) tap_fail "modinfo finds the dkms module" "$where" ;;
esac
tap_ok "modprobe portmaster" modprobe portmaster
tap_ok "it is loaded, with its dependencies" sh -c 'lsmod | grep -q "^portmaster " && lsmod | grep -q "^nf_conntrack "'
v=$(cat /sys/module/portmaster/version)
tap_is "one version: modinfo and portmasterd" "$($PMD --version)" "portmasterd $v"
tap_is "one version: modinfo and pmctl" "$($PMCTL --version)" "pmctl $v"
tap_ok "modprobe -r portmaster" modprobe -r portmaster
tap_ok "it is unloaded" sh -c '! lsmod | grep -q "^portmaster "'

net_setup
in_srv socat -t 5 TCP-LISTEN:80,fork,reuseaddr SYSTEM:'read l; echo HTTP/1.0 200 OK; echo; echo hello' >/dev/null 2>&1 &
SERVERS="$!"
srv_tcp 8080
wait_port srv 80 t

# The daemon as installed, with its installed default configuration.
ip netns exec cli "$PMD" --foreground >"$T/pmd.log" 2>&1 &
PMD_PID=$!
wait_until 20 test -S /run/portmaster/control.sock
tap_ok "portmasterd starts with the installed configuration" $PMCTL status
tap_ok "looking up its netlink family loaded the module" sh -c 'lsmod | grep -q "^portmaster "'
tap_is "it runs in module mode" "$($PMCTL -t status | awk -F'\t' '$1 == "mode" {print $2}')" kmod
tap_ok "a first rule: block port 8080" $PMCTL rule add block --port 8080 --proto tcp

in_cli sh -c "echo \$\$ >'$T/curl.pid'; exec curl -s --max-time 5 http://10.0.0.2/" >"$T/curl.out" 2>&1
tap_is "an allowed curl succeeds" "$(cat "$T/curl.out")" hello
t0=$(now_ms)
in_cli sh -c "echo \$\$ >'$T/socat.pid'; exec socat -T 10 - TCP:10.0.0.2:8080" </dev/null >"$T/socat.out" 2>&1
dt=$(($(now_ms) - t0))
# refused by the ICMP error (a drop would time out after 10 s)
grep -q "No route to host" "$T/socat.out" &&
	tap_pass "a blocked client is refused at once ($dt ms)" ||
	tap_fail "a blocked client is refused at once" "$dt ms: $(cat "$T/socat.out")"
list=$($PMCTL -t list)
echo "$list" | awk -F'\t' -v p="$(cat "$T/curl.pid")" '$8 == p && $7 == 80 && $10 == "/usr/bin/curl"' | grep -q . &&
	tap_pass "pmctl list shows the curl with its pid" || tap_fail "pmctl list shows the curl with its pid" "$list"
echo "$list" | awk -F'\t' -v p="$(cat "$T/socat.pid")" '$8 == p && $7 == 8080' | grep -q . &&
	tap_pass "pmctl list shows the blocked client with its pid" ||
	tap_fail "pmctl list shows the blocked client with its pid" "$list"

kill -TERM $PMD_PID
wait $PMD_PID
tap_is "portmasterd stops cleanly" "$?" 0
tap_ok "modprobe -r portmaster after it" modprobe -r portmaster
tap_done

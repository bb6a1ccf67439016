# portmaster.ko loads and unloads cleanly and registers the generic
# netlink family.  A namespace nobody watches pays nothing: no hooks, no
# conntrack, until a listener registers there (in a namespace that
# existed before the module was loaded or one created after), and the
# hooks go again with its clean goodbye.
. tests/vm/lib.sh
trap cleanup EXIT

# A namespace that exists before the module does.
ip netns add before
ip -n before link set lo up

tap_ok "module loads" pm_load
tap_ok "generic netlink family portmaster is listed by genl ctrl" \
	sh -c 'genl ctrl list | grep -q "^Name: portmaster"'
tap_ok "the family resolves through libnl (stats query)" \
	"$PM_LISTENER" stats packets

ip netns add after
ip -n after link set lo up

packets() { ip netns exec "$1" "$PM_LISTENER" stats packets; }
traffic() {	# NS: v4 and v6 pings and a UDP datagram to port 9999
	ip netns exec "$1" ping -c 3 -i 0.2 -W 1 127.0.0.1 >/dev/null
	ip netns exec "$1" ping -6 -c 3 -i 0.2 -W 1 ::1 >/dev/null
	ip netns exec "$1" sh -c 'echo x | socat -u - UDP:127.0.0.1:9999' 2>/dev/null
}
tracked() { ip netns exec "$1" conntrack -L -p udp --dport 9999 2>/dev/null | grep -c .; }
our_hooks() {	# NS: how many of our hooks nft lists there
	ip netns exec "$1" nft list hooks 2>/dev/null | grep -c -- '-0000000120 pm_hook \[portmaster\]'
}
have_nft_hooks=0
nft list hooks 2>/dev/null | grep -q conntrack && have_nft_hooks=1

# No listener anywhere: no hook runs, conntrack is not switched on.
for ns in before after; do
	b=$(packets $ns)
	traffic $ns
	tap_is "no listener in '$ns': no hook sees its traffic" "$(( $(packets $ns) - b ))" 0
	tap_is "no listener in '$ns': conntrack is not switched on" "$(tracked $ns)" 0
done
if [ $have_nft_hooks = 1 ]; then
	tap_is "no listener: nft list hooks shows none of ours" "$(our_hooks before) $(our_hooks after)" "0 0"
else
	tap_skip "nft list hooks shows none of ours" "this kernel has no NETFILTER_NETLINK_HOOK"
fi

# A listener in 'before' switches its hooks and conntrack on, there only.
rm -f "$T/ready"
ip netns exec before "$PM_LISTENER" listen --answer 1700 --out "$T/before.events" \
	--ready "$T/ready" &
LISTENER=$!
wait_until 60 test -e "$T/ready" || tap_fail "a listener registers in 'before'"
b=$(packets before)
a=$(packets after)
traffic before
traffic after
# 3 echo requests + 3 replies, each out and in, for v4 and v6
n=$(( $(packets before) - b ))
[ $n -ge 24 ] && tap_pass "a listener in 'before': its hooks see IPv4 and IPv6 ($n packets)" ||
	tap_fail "a listener in 'before': its hooks see IPv4 and IPv6" "$n packets"
tap_is "a listener in 'before': conntrack is on there" "$(tracked before)" 1
tap_is "and nothing is hooked in 'after'" "$(( $(packets after) - a )) $(tracked after)" "0 0"
if [ $have_nft_hooks = 1 ]; then
	# ip and ip6, input and output, after conntrack, before NAT
	tap_is "nft list hooks shows our 4 hooks at -120 in 'before', none in 'after'" \
		"$(our_hooks before) $(our_hooks after)" "4 0"
else
	tap_skip "nft list hooks shows our 4 hooks at -120" "this kernel has no NETFILTER_NETLINK_HOOK"
fi
init_before=$("$PM_LISTENER" stats packets)
traffic after
tap_is "traffic in another netns is not counted in the initial one" \
	"$("$PM_LISTENER" stats packets)" "$init_before"

# Its clean goodbye takes them away again.
listener_stop
b=$(packets before)
ip netns exec before conntrack -F >/dev/null 2>&1
traffic before
tap_is "after a clean goodbye: no hook sees the traffic" "$(( $(packets before) - b ))" 0
tap_is "after a clean goodbye: conntrack is off again" "$(tracked before)" 0
if [ $have_nft_hooks = 1 ]; then
	tap_is "after a clean goodbye: nft lists none of our hooks" "$(our_hooks before)" 0
else
	tap_skip "after a clean goodbye: nft lists none of our hooks" "this kernel has no NETFILTER_NETLINK_HOOK"
fi
tap_is "no listener: nothing intercepted in the initial namespace" "$("$PM_LISTENER" stats intercepted)" 0

tap_ok "module unloads" pm_unload
tap_ok "the family is gone after unload" \
	sh -c '! genl ctrl list | grep -q "^Name: portmaster"'
tap_ok "traffic still flows after unload" ip netns exec after ping -c 1 -W 1 127.0.0.1
tap_ok "module loads again" pm_load
tap_ok "and unloads again" pm_unload
ip netns del before
ip netns del after
tap_done

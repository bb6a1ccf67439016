/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Portmaster: the contract between portmaster.ko and userspace.
 *
 * This header is the only place where the generic netlink protocol, the
 * 17xx verdict marks and the NFQUEUE numbers are defined.  The module, the
 * daemon, pmctl and the tests all include it.
 *
 * Generic netlink family PORTMASTER_GENL_NAME, version
 * PORTMASTER_GENL_VERSION.  The family is available in every network
 * namespace; each namespace has its own listener, flows, settings and
 * statistics.  Every command is validated strictly against its policy:
 * unknown or malformed attributes are refused with EINVAL and an extended
 * ack.  Commands marked (admin) need CAP_NET_ADMIN; others may be sent by
 * any user.
 *
 * PM_CMD_REGISTER (admin)
 *   No attributes.  Makes the sending socket the namespace's verdict
 *   listener: from now on every new flow is held and announced to it with
 *   PM_CMD_FLOW_NEW.  Fails with EBUSY while another listener lives.  The
 *   module's hooks, and conntrack, are switched on in a namespace only
 *   when a listener first registers there: a namespace nobody watches
 *   pays nothing.  The listener stays registered until PM_CMD_UNREGISTER
 *   or until its socket closes; a socket that closes while registered
 *   counts as a listener that died, and new flows follow the fail policy
 *   (the hooks stay) until a listener registers again.
 *   PM_CMD_REGISTER again from the listener's own socket succeeds and is
 *   its keep-alive.  A listener that has sent one is expected to be heard
 *   more often than the verdict timeout: when a flow reaches the timeout
 *   and nothing came from the listener's socket since the flow was
 *   announced, it is taken as hung (PM_LISTENER_SILENT).  Its pending
 *   flows and every new flow then follow the fail policy at once (a
 *   remembered verdict still applies), instead of each waiting out the
 *   timeout, until its socket sends REGISTER, VERDICT, GET_STATS,
 *   GET_CONFIG, SET_CONFIG or RESET again.  A listener that never sent a
 *   keep-alive is never taken as hung.
 *
 * PM_CMD_UNREGISTER (admin)
 *   No attributes.  A clean goodbye from the registered listener: pending
 *   flows pass unmarked, the hooks and conntrack are released, and the
 *   module stays out of the way.  ENOENT when the sender is not the
 *   listener.
 *
 * PM_CMD_FLOW_NEW (kernel to listener, unicast)
 *   PM_A_FLOW_ID: NLA_U64, the pending flow; answer with PM_CMD_VERDICT
 *   PM_A_CT_ID: NLA_U32, nf_ct_get_id() of the conntrack entry
 *   PM_A_DIRECTION: NLA_U8, enum pm_direction (of the flow, not the packet)
 *   PM_A_FAMILY: NLA_U8, AF_INET or AF_INET6
 *   PM_A_PROTOCOL: NLA_U8, IPPROTO_*
 *   PM_A_SRC_ADDR: NLA_BINARY, 4 or 16 bytes, network order
 *   PM_A_DST_ADDR: NLA_BINARY, 4 or 16 bytes, network order
 *   PM_A_SRC_PORT: NLA_U16, host order (TCP, UDP, UDP-Lite, SCTP, DCCP)
 *   PM_A_DST_PORT: NLA_U16, host order
 *   PM_A_ICMP_TYPE: NLA_U8 (ICMP and ICMPv6 only)
 *   PM_A_ICMP_CODE: NLA_U8 (ICMP and ICMPv6 only)
 *   PM_A_IFINDEX: NLA_U32, the device the packet leaves or entered by
 *   PM_A_OWNER: NLA_NESTED, the local socket's owner, when one is known
 *     PM_OWNER_A_UID: NLA_U32, the socket's uid, as the listener's user
 *       namespace (the one it registered from) sees it
 *     PM_OWNER_A_GID: NLA_U32, likewise
 *     PM_OWNER_A_INODE: NLA_U64, socket inode, as in /proc/PID/fd
 *     PM_OWNER_A_CGROUP_ID: NLA_U64, the cgroup v2 id of the socket (the
 *       cgroup of the task that created it; the inode number of its
 *       directory in the cgroup2 mount), when the kernel keeps one
 *     PM_OWNER_A_PID: NLA_U32, thread id, only when captured in the
 *       sending task's context (outbound); otherwise absent
 *     PM_OWNER_A_TGID: NLA_U32, process id, likewise
 *     PM_OWNER_A_PPID: NLA_U32, the process id of its parent, likewise
 *     PM_OWNER_A_COMM: NLA_NUL_STRING, likewise
 *     PM_OWNER_A_EXE: NLA_NUL_STRING, executable path, likewise
 *   PM_A_MARK: NLA_U32, present only when the kernel already decided the
 *     flow with a remembered verdict (see PM_CMD_VERDICT): a report, not
 *     a question.  PM_A_FLOW_ID is then absent.
 *   A flow whose event the listener's socket could not take (its receive
 *   buffer was full: the listener sees ENOBUFS) stays pending until its
 *   timeout; the listener recovers it with PM_CMD_GET_FLOWS.
 *
 *   Inbound packets that no local socket would receive are not held nor
 *   announced: the stack answers them as it would without the module.
 *   A packet that finds no room (the pending table, the share of it that
 *   its direction and its uid may take, the flow's queue, the bytes all
 *   held packets may use) or no memory is dropped, never let through;
 *   its flow stays pending.  The fail policy is only for a listener that
 *   is gone, hangs, or does not answer in time.
 *
 * PM_CMD_VERDICT (admin)
 *   PM_A_FLOW_ID: NLA_U64, required
 *   PM_A_MARK: NLA_U32, required, one of enum pm_mark except
 *     PM_MARK_UNDECIDED
 *   PM_A_REMEMBER_MS: NLA_U32, optional, 1 ... PM_REMEMBER_MS_MAX: for
 *     this long, new flows like this one (same executable, uid,
 *     direction, protocol, peer address and service port) get the same
 *     verdict in the kernel without being asked; they are still reported
 *     (PM_CMD_FLOW_NEW with PM_A_MARK, the program named by the path it
 *     had when this verdict was given).  Permanent marks only.
 *   ENOENT when the flow is no longer pending (answered, timed out or
 *   evicted), EINVAL for a mark that is not a verdict, or one that cannot
 *   be remembered, EPERM from any socket but the listener's.
 *
 * PM_CMD_GET_FLOWS (admin, dump)
 *   No attributes.  One PM_CMD_GET_FLOWS message per pending flow, oldest
 *   first, with the attributes of PM_CMD_FLOW_NEW (the executable's path
 *   when the module could keep it within max_held_bytes) plus
 *   PM_A_AGE_MS: NLA_U32, how long the flow has waited
 *   PM_A_HELD: NLA_U32, packets held for it now
 *
 * PM_CMD_GET_STATS (admin)
 *   Reply: PM_A_STATS: NLA_NESTED
 *     PM_STATS_A_PACKETS: NLA_U64, packets the hooks saw
 *     PM_STATS_A_INTERCEPTED: NLA_U64, flows announced to a listener
 *     PM_STATS_A_PENDING: NLA_U64, flows waiting now
 *     PM_STATS_A_HELD: NLA_U64, packets held now
 *     PM_STATS_A_FAST_PATH: NLA_U64, packets decided from ct->mark
 *     PM_STATS_A_VERDICTS: NLA_NESTED, one NLA_U64 per mark, the
 *       attribute type being the mark (1700 ... 1799)
 *     PM_STATS_A_TIMEOUTS: NLA_U64, flows resolved by the verdict timeout
 *     PM_STATS_A_TABLE_FULL: NLA_U64, packets dropped: pending table full
 *     PM_STATS_A_QUEUE_FULL: NLA_U64, packets dropped: flow queue or the
 *       held bytes full
 *     PM_STATS_A_EVENT_FAILED: NLA_U64, events the listener could not take
 *     PM_STATS_A_POLICY_ACCEPT: NLA_U64, packets accepted by fail policy
 *     PM_STATS_A_POLICY_DROP: NLA_U64, packets dropped by fail policy
 *     PM_STATS_A_LISTENER_LOST: NLA_U64, listeners that died registered
 *     PM_STATS_A_REMEMBERED: NLA_U64, flows decided by a remembered verdict
 *     PM_STATS_A_LISTENER_SILENT: NLA_U64, times the listener was taken
 *       as hung
 *     PM_STATS_A_QUOTA_FULL: NLA_U64, packets dropped: their direction's
 *       or their uid's share of the pending table was taken
 *     PM_STATS_A_NO_MEMORY: NLA_U64, packets dropped: no memory to hold
 *       them or to announce their flow
 *     PM_STATS_A_NOT_LOCAL: NLA_U64, inbound packets of new flows that no
 *       local socket would receive, left to the stack
 *     PM_STATS_A_NO_ROUTE: NLA_U64, packets dropped: no route to hold
 *   PM_A_LISTENER: NLA_U32, netlink port id of the listener, 0 if none
 *   PM_A_LISTENER_STATE: NLA_U8, enum pm_listener_state
 *
 * PM_CMD_GET_CONFIG (admin)
 *   Reply: PM_A_CONFIG: NLA_NESTED, as for PM_CMD_SET_CONFIG, all present.
 *
 * PM_CMD_SET_CONFIG (admin)
 *   PM_A_CONFIG: NLA_NESTED, required; any subset of
 *     PM_CONFIG_A_FAIL_POLICY: NLA_U8, enum pm_fail_policy
 *     PM_CONFIG_A_TIMEOUT_MS: NLA_U32, 10 ... 600000
 *     PM_CONFIG_A_MAX_PENDING: NLA_U32, 1 ... 65536
 *     PM_CONFIG_A_MAX_HELD: NLA_U32, packets per flow, 1 ... 1024
 *     PM_CONFIG_A_REROUTE_DNS: NLA_NESTED, where the module itself DNATs
 *       connections given PM_MARK_REROUTE_DNS; a nest with no address
 *       turns that off (the mark is then only set, for the user's own
 *       NAT rule; libnl drops an empty nest: send a port of 0 alone)
 *       PM_REROUTE_A_ADDR4: NLA_BINARY, 4 bytes: for IPv4 flows
 *       PM_REROUTE_A_ADDR6: NLA_BINARY, 16 bytes: for IPv6 flows
 *       PM_REROUTE_A_PORT: NLA_U16, host order; 0 or absent: keep
 *     PM_CONFIG_A_REROUTE_TUNNEL: NLA_NESTED, likewise for
 *       PM_MARK_REROUTE_TUNNEL
 *   The table is shared: inbound flows may take at most half of
 *   max_pending, outbound ones at most the other half, and one uid at
 *   most half of its direction's share (at least one flow each).
 *   Settings are per network namespace; a new namespace starts from the
 *   module parameters of the same names.
 *
 * PM_CMD_RESET (admin)
 *   No attributes.  Clears the 17xx marks of every conntrack entry in the
 *   namespace so that each connection is decided again by its next
 *   packet, and forgets every remembered verdict (used after a rule
 *   change).  Reply: PM_A_RESET_COUNT: NLA_U32, the entries cleared.
 */
#ifndef _UAPI_LINUX_PORTMASTER_H
#define _UAPI_LINUX_PORTMASTER_H

#define PORTMASTER_GENL_NAME "portmaster"
#define PORTMASTER_GENL_VERSION 1

/*
 * Verdict marks, kept in the conntrack mark (and, for the reroutes, the
 * packet mark) exactly as Portmaster's iptables integration does.
 */
enum pm_mark {
	PM_MARK_UNDECIDED = 0,
	PM_MARK_ACCEPT = 1700,		/* this packet only */
	PM_MARK_BLOCK = 1701,		/* this packet only, ICMP reject */
	PM_MARK_DROP = 1702,		/* this packet only */
	PM_MARK_ACCEPT_ALWAYS = 1710,	/* kept on the connection */
	PM_MARK_BLOCK_ALWAYS = 1711,
	PM_MARK_DROP_ALWAYS = 1712,
	PM_MARK_REROUTE_TUNNEL = 1717,	/* DNAT to the tunnel entry */
	PM_MARK_REROUTE_DNS = 1799,	/* DNAT stray DNS to the resolver */
};

/* NFQUEUE numbers of the fallback: 17, direction, family, thread. */
#define PM_QUEUE_OUT_V4 17040
#define PM_QUEUE_OUT_V6 17060
#define PM_QUEUE_IN_V4 17140
#define PM_QUEUE_IN_V6 17160

/* The iptables chains of the fallback. */
#define PM_CHAIN_MANGLE_OUT "C170"
#define PM_CHAIN_MANGLE_IN "C171"
#define PM_CHAIN_FILTER "C17"

enum pm_direction {
	PM_DIR_OUT = 0,
	PM_DIR_IN = 1,
};

enum pm_fail_policy {
	PM_FAIL_OPEN = 0,	/* accept, unmarked */
	PM_FAIL_CLOSED = 1,	/* drop */
};

enum pm_listener_state {
	PM_LISTENER_NONE = 0,	/* never registered, or left cleanly */
	PM_LISTENER_ACTIVE = 1,
	PM_LISTENER_LOST = 2,	/* died registered: fail policy applies */
	PM_LISTENER_SILENT = 3,	/* registered, hung: fail policy until heard */
};

enum pm_cmd {
	PM_CMD_UNSPEC,
	PM_CMD_REGISTER,
	PM_CMD_UNREGISTER,
	PM_CMD_FLOW_NEW,
	PM_CMD_VERDICT,
	PM_CMD_GET_FLOWS,
	PM_CMD_GET_STATS,
	PM_CMD_GET_CONFIG,
	PM_CMD_SET_CONFIG,
	PM_CMD_RESET,
	__PM_CMD_MAX
};

#define PM_CMD_MAX (__PM_CMD_MAX - 1)

enum pm_attr {
	PM_A_UNSPEC,
	PM_A_FLOW_ID,
	PM_A_CT_ID,
	PM_A_DIRECTION,
	PM_A_FAMILY,
	PM_A_PROTOCOL,
	PM_A_SRC_ADDR,
	PM_A_DST_ADDR,
	PM_A_SRC_PORT,
	PM_A_DST_PORT,
	PM_A_ICMP_TYPE,
	PM_A_ICMP_CODE,
	PM_A_IFINDEX,
	PM_A_OWNER,
	PM_A_MARK,
	PM_A_AGE_MS,
	PM_A_HELD,
	PM_A_STATS,
	PM_A_LISTENER,
	PM_A_LISTENER_STATE,
	PM_A_CONFIG,
	PM_A_RESET_COUNT,
	PM_A_PAD,
	PM_A_REMEMBER_MS,
	__PM_A_MAX
};

#define PM_A_MAX (__PM_A_MAX - 1)

enum pm_owner_attr {
	PM_OWNER_A_UNSPEC,
	PM_OWNER_A_UID,
	PM_OWNER_A_GID,
	PM_OWNER_A_INODE,
	PM_OWNER_A_PID,
	PM_OWNER_A_TGID,
	PM_OWNER_A_COMM,
	PM_OWNER_A_EXE,
	PM_OWNER_A_PAD,
	PM_OWNER_A_CGROUP_ID,
	PM_OWNER_A_PPID,
	__PM_OWNER_A_MAX
};

#define PM_OWNER_A_MAX (__PM_OWNER_A_MAX - 1)

enum pm_stats_attr {
	PM_STATS_A_UNSPEC,
	PM_STATS_A_PACKETS,
	PM_STATS_A_INTERCEPTED,
	PM_STATS_A_PENDING,
	PM_STATS_A_HELD,
	PM_STATS_A_FAST_PATH,
	PM_STATS_A_VERDICTS,
	PM_STATS_A_TIMEOUTS,
	PM_STATS_A_TABLE_FULL,
	PM_STATS_A_QUEUE_FULL,
	PM_STATS_A_EVENT_FAILED,
	PM_STATS_A_POLICY_ACCEPT,
	PM_STATS_A_POLICY_DROP,
	PM_STATS_A_LISTENER_LOST,
	PM_STATS_A_PAD,
	PM_STATS_A_REMEMBERED,
	PM_STATS_A_LISTENER_SILENT,
	PM_STATS_A_QUOTA_FULL,
	PM_STATS_A_NO_MEMORY,
	PM_STATS_A_NOT_LOCAL,
	PM_STATS_A_NO_ROUTE,
	__PM_STATS_A_MAX
};

#define PM_STATS_A_MAX (__PM_STATS_A_MAX - 1)

enum pm_config_attr {
	PM_CONFIG_A_UNSPEC,
	PM_CONFIG_A_FAIL_POLICY,
	PM_CONFIG_A_TIMEOUT_MS,
	PM_CONFIG_A_MAX_PENDING,
	PM_CONFIG_A_MAX_HELD,
	PM_CONFIG_A_REROUTE_DNS,
	PM_CONFIG_A_REROUTE_TUNNEL,
	__PM_CONFIG_A_MAX
};

#define PM_CONFIG_A_MAX (__PM_CONFIG_A_MAX - 1)

enum pm_reroute_attr {
	PM_REROUTE_A_UNSPEC,
	PM_REROUTE_A_ADDR4,
	PM_REROUTE_A_ADDR6,
	PM_REROUTE_A_PORT,
	__PM_REROUTE_A_MAX
};

#define PM_REROUTE_A_MAX (__PM_REROUTE_A_MAX - 1)

#define PM_TIMEOUT_MS_MIN 10
#define PM_TIMEOUT_MS_MAX 600000
#define PM_MAX_PENDING_MAX 65536
#define PM_MAX_HELD_MAX 1024
#define PM_REMEMBER_MS_MAX 86400000

#endif /* _UAPI_LINUX_PORTMASTER_H */

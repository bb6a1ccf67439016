// SPDX-License-Identifier: GPL-2.0
/* ctnetlink over libmnl: dump, pick by mark, delete by original tuple. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "intercept/ct.h"
#include "common/log.h"

struct victim {
	uint8_t family;
	uint32_t id;
	bool have_id;
	uint16_t zone;
	bool have_zone;
	uint16_t tuple_len;
	uint8_t tuple[256];	/* CTA_TUPLE_ORIG, copied whole */
};

struct collect {
	uint32_t lo, hi;
	struct victim *v;
	size_t n, cap;
	int err;
};

static int collect_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *tuple = NULL;
	struct victim v = { .family = g->nfgen_family };
	uint32_t mark = 0;
	bool have_mark = false;

	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		switch (mnl_attr_get_type(a)) {
		case CTA_MARK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				mark = ntohl(mnl_attr_get_u32(a));
				have_mark = true;
			}
			break;
		case CTA_ID:
			/* kept as the wire has it, to be sent back as it came */
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				v.id = mnl_attr_get_u32(a);
				v.have_id = true;
			}
			break;
		case CTA_ZONE:
			if (mnl_attr_validate(a, MNL_TYPE_U16) == 0) {
				v.zone = mnl_attr_get_u16(a);
				v.have_zone = true;
			}
			break;
		case CTA_TUPLE_ORIG:
			tuple = a;
			break;
		}
	}
	if (!have_mark || mark < c->lo || mark > c->hi || !tuple)
		return MNL_CB_OK;
	if (tuple->nla_len > sizeof(v.tuple))
		return MNL_CB_OK;
	v.tuple_len = tuple->nla_len;
	memcpy(v.tuple, tuple, tuple->nla_len);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct victim *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv) {
			c->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = v;
	return MNL_CB_OK;
}

int ct_reset_marked(uint32_t lo, uint32_t hi)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	struct collect c = { .lo = lo, .hi = hi };
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int deleted = 0, r;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE * 4)) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, collect_cb, &c);
		if (r == MNL_CB_STOP)
			break;
		if (r < 0) {
			r = c.err ? c.err : -errno;
			goto out;
		}
	}
	if (n < 0) {
		r = -errno;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		struct victim *v = &c.v[i];

		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = ++seq;
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->nfgen_family = v->family;
		g->version = NFNETLINK_V0;
		memcpy((char *)nlh + nlh->nlmsg_len, v->tuple, v->tuple_len);
		nlh->nlmsg_len += MNL_ALIGN(v->tuple_len);
		if (v->have_id)
			mnl_attr_put_u32(nlh, CTA_ID, v->id);
		if (v->have_zone)
			mnl_attr_put_u16(nlh, CTA_ZONE, v->zone);
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
			continue;
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n > 0 && mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) >= 0)
			deleted++;
		/* ENOENT: it went away by itself meanwhile, which is as good. */
	}
	r = deleted;
out:
	if (nl)
		mnl_socket_close(nl);
	free(c.v);
	free(buf);
	return r;
}

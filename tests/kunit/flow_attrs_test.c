// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: a flow's netlink attributes stay within pm_flow_attrs_size(),
 * the only room check made before they are written unchecked: the
 * largest flow there can be fits an skb of exactly that room, and one
 * byte less is refused before anything is written.
 */
#include <kunit/test.h>

#include "../../kmod/flow_attrs.c"

/* Every optional part present, as large as it can be. */
static void flow_largest(struct pm_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->id = 0x0102030405060708ULL;
	f->info.family = AF_INET6;
	f->info.protocol = IPPROTO_UDP;
	f->info.direction = PM_DIR_OUT;
	f->info.flags = PM_FLOW_PORTS | PM_FLOW_ICMP;
	memset(&f->info.saddr, 0xfd, sizeof(f->info.saddr));
	memset(&f->info.daddr, 0xfe, sizeof(f->info.daddr));
	f->info.sport = 65535;
	f->info.dport = 65535;
	f->info.icmp_type = 255;
	f->info.icmp_code = 255;
	f->info.ifindex = INT_MAX;
	f->info.ct_id = U32_MAX;
	f->owner.flags = PM_OWNER_SOCKET | PM_OWNER_TASK | PM_OWNER_CGROUP;
	f->owner.uid = U32_MAX;
	f->owner.gid = U32_MAX;
	f->owner.inode = U64_MAX;
	f->owner.cgroup_id = U64_MAX;
	f->owner.pid = U32_MAX;
	f->owner.tgid = U32_MAX;
	f->owner.ppid = U32_MAX;
	memset(f->owner.comm, 'c', TASK_COMM_LEN - 1);
}

/* A path of @len characters, as d_path() gives them. */
static char *path_of_len(struct kunit *test, size_t len)
{
	char *p = kunit_kzalloc(test, len + 1, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < len; i++)
		p[i] = i % 64 ? 'a' + i % 26 : '/';
	return p;
}

/*
 * An skb whose tailroom is exactly @room; what is before it is filler,
 * which the caller skips with skb->len at the start.
 */
static struct sk_buff *skb_with_room(struct kunit *test, size_t room)
{
	struct sk_buff *skb = alloc_skb(room, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put_zero(skb, skb_tailroom(skb) - room);
	KUNIT_ASSERT_EQ(test, (size_t)skb_tailroom(skb), room);
	return skb;
}

static const struct nlattr *attr_in(const void *head, int len, int type)
{
	const struct nlattr *a;
	int rem;

	nla_for_each_attr(a, head, len, rem)
		if (nla_type(a) == type)
			return a;
	return NULL;
}

/* The attributes from @from on are well formed and end exactly at the tail. */
static void expect_well_formed(struct kunit *test, struct sk_buff *skb,
			       unsigned int from)
{
	const struct nlattr *a;
	int rem, n = 0;

	nla_for_each_attr(a, (void *)skb->data + from, skb->len - from, rem)
		n++;
	KUNIT_EXPECT_GT(test, n, 0);
	KUNIT_EXPECT_EQ(test, rem, 0);
}

/* The largest flow, an event and a dump entry (AGE and HELD after it). */
static void flow_attrs_largest_fits_exactly(struct kunit *test)
{
	char *exe = path_of_len(test, PATH_MAX - 1);
	size_t size = pm_flow_attrs_size(exe);
	const struct nlattr *owner, *a;
	struct sk_buff *skb;
	unsigned int start;
	struct pm_flow f;
	u64 *id_slot = NULL, id;

	flow_largest(&f);
	skb = skb_with_room(test, size);
	start = skb->len;
	KUNIT_ASSERT_EQ(test, pm_flow_attrs_put(skb, &f, exe, 0, &id_slot), 0);
	KUNIT_EXPECT_EQ(test, nla_put_u32(skb, PM_A_AGE_MS, U32_MAX), 0);
	KUNIT_EXPECT_EQ(test, nla_put_u32(skb, PM_A_HELD, U32_MAX), 0);
	KUNIT_EXPECT_LE(test, skb->len - start, size);
	expect_well_formed(test, skb, start);

	KUNIT_ASSERT_NOT_NULL(test, id_slot);
	memcpy(&id, id_slot, sizeof(id));	/* where the table's id goes */
	KUNIT_EXPECT_EQ(test, id, f.id);
	owner = attr_in(skb->data + start, skb->len - start, PM_A_OWNER);
	KUNIT_ASSERT_NOT_NULL(test, owner);
	KUNIT_EXPECT_TRUE(test, owner->nla_type & NLA_F_NESTED);
	a = attr_in(nla_data(owner), nla_len(owner), PM_OWNER_A_EXE);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(a), exe);
	a = attr_in(nla_data(owner), nla_len(owner), PM_OWNER_A_COMM);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(a), f.owner.comm);
	kfree_skb(skb);

	/* a report: its mark in place of the id */
	skb = skb_with_room(test, size);
	start = skb->len;
	KUNIT_ASSERT_EQ(test, pm_flow_attrs_put(skb, &f, exe, 1710, NULL), 0);
	KUNIT_EXPECT_LE(test, skb->len - start, size);
	expect_well_formed(test, skb, start);
	a = attr_in(skb->data + start, skb->len - start, PM_A_MARK);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_EQ(test, nla_get_u32(a), 1710U);
	KUNIT_EXPECT_NULL(test, attr_in(skb->data + start, skb->len - start,
					PM_A_FLOW_ID));
	kfree_skb(skb);
}

/* One byte short: refused whole, before anything is written. */
static void flow_attrs_one_byte_short(struct kunit *test)
{
	char *exe = path_of_len(test, PATH_MAX - 1);
	struct sk_buff *skb;
	unsigned int start;
	struct pm_flow f;

	flow_largest(&f);
	skb = skb_with_room(test, pm_flow_attrs_size(exe) - 1);
	start = skb->len;
	KUNIT_EXPECT_EQ(test, pm_flow_attrs_put(skb, &f, exe, 0, NULL), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, skb->len, start);
	kfree_skb(skb);

	skb = skb_with_room(test, pm_flow_attrs_size(NULL) - 1);
	start = skb->len;
	f.owner.flags = 0;
	f.info.family = AF_INET;
	KUNIT_EXPECT_EQ(test, pm_flow_attrs_put(skb, &f, NULL, 1710, NULL), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, skb->len, start);
	kfree_skb(skb);
}

/* Every shape of flow and length of path: never past the bound. */
static void flow_attrs_every_shape_within_bound(struct kunit *test)
{
	static const u32 owners[] = {
		0, PM_OWNER_SOCKET, PM_OWNER_TASK, PM_OWNER_CGROUP,
		PM_OWNER_SOCKET | PM_OWNER_TASK | PM_OWNER_CGROUP,
	};
	unsigned int o, fam, flags, len, start, worst = 0;
	struct sk_buff *skb;
	struct pm_flow f;
	char *exe;
	size_t size;

	for (len = 0; len < PATH_MAX; len += len < 64 ? 1 : 61) {
		exe = len ? path_of_len(test, len) : NULL;
		size = pm_flow_attrs_size(exe);
		for (o = 0; o < ARRAY_SIZE(owners); o++)
			for (fam = 0; fam < 2; fam++)
				for (flags = 0; flags < 4; flags++) {
					flow_largest(&f);
					f.owner.flags = owners[o];
					f.info.family = fam ? AF_INET6 : AF_INET;
					f.info.flags = flags;
					skb = skb_with_room(test, size);
					start = skb->len;
					KUNIT_ASSERT_EQ(test,
							pm_flow_attrs_put(skb, &f, exe,
									  flags & 1 ? 1710 : 0,
									  NULL), 0);
					KUNIT_ASSERT_LE(test, skb->len - start, size);
					worst = max(worst, skb->len - start);
					kfree_skb(skb);
				}
	}
	kunit_info(test, "largest flow written: %u bytes\n", worst);
}

static struct kunit_case flow_attrs_test_cases[] = {
	KUNIT_CASE(flow_attrs_largest_fits_exactly),
	KUNIT_CASE(flow_attrs_one_byte_short),
	KUNIT_CASE(flow_attrs_every_shape_within_bound),
	{}
};

static struct kunit_suite flow_attrs_test_suite = {
	.name = "portmaster_flow_attrs",
	.test_cases = flow_attrs_test_cases,
};

kunit_test_suite(flow_attrs_test_suite);

// SPDX-License-Identifier: GPL-2.0
/* KUnit: remembered verdicts: what a key is, expiry, the bound, flush. */
#include <kunit/test.h>

#include "../../kmod/remember.c"

/* The tests' own clock: entries expire against it, not jiffies. */
#define NOW 0

static struct pm_flow flow_out(u32 daddr, u16 dport, u64 exe_ino)
{
	struct pm_flow f;

	memset(&f, 0, sizeof(f));
	f.info.family = AF_INET;
	f.info.protocol = IPPROTO_TCP;
	f.info.direction = PM_DIR_OUT;
	f.info.flags = PM_FLOW_PORTS;
	f.info.saddr.ip = htonl(0x0a000001);
	f.info.daddr.ip = htonl(daddr);
	f.info.sport = 40000;
	f.info.dport = dport;
	f.owner.flags = PM_OWNER_SOCKET | PM_OWNER_TASK;
	f.owner.uid = 1000;
	f.owner.pid = 4242;
	f.owner.exe.ino = exe_ino;
	f.owner.exe.dev = 8;
	f.owner.exe.generation = 3;
	f.owner.exe.ctime_ns = 1700000000000000000ULL;
	return f;
}

static void remember_key(struct kunit *test)
{
	struct pm_flow a = flow_out(0x0a000002, 443, 77), b;
	struct pm_remember_key ka, kb;

	pm_remember_key(&a, &ka);
	KUNIT_EXPECT_EQ(test, ka.peer.ip, htonl(0x0a000002));
	KUNIT_EXPECT_EQ(test, ka.port, 443);

	/* the source port and the pid do not matter: a new connection */
	b = a;
	b.info.sport = 40001;
	b.owner.pid = 5151;
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_EQ(test, memcmp(&ka, &kb, sizeof(ka)), 0);

	/* the program, the user, the peer and the port do */
	b = a;
	b.owner.exe.ino = 78;
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_NE(test, memcmp(&ka, &kb, sizeof(ka)), 0);
	/* an executable replaced under the same inode number is another */
	b = a;
	b.owner.exe.generation = 4;
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_NE(test, memcmp(&ka, &kb, sizeof(ka)), 0);
	b = a;
	b.owner.exe.ctime_ns += 1;
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_NE(test, memcmp(&ka, &kb, sizeof(ka)), 0);
	b = a;
	b.owner.uid = 1001;
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_NE(test, memcmp(&ka, &kb, sizeof(ka)), 0);
	b = flow_out(0x0a000003, 443, 77);
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_NE(test, memcmp(&ka, &kb, sizeof(ka)), 0);
	b = flow_out(0x0a000002, 80, 77);
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_NE(test, memcmp(&ka, &kb, sizeof(ka)), 0);

	/* inbound: the peer is the source, the port our service */
	b = a;
	b.info.direction = PM_DIR_IN;
	swap(b.info.saddr, b.info.daddr);
	b.info.sport = 51000;
	b.info.dport = 22;
	pm_remember_key(&b, &kb);
	KUNIT_EXPECT_EQ(test, kb.peer.ip, htonl(0x0a000002));
	KUNIT_EXPECT_EQ(test, kb.port, 22);
	KUNIT_EXPECT_EQ(test, kb.direction, PM_DIR_IN);
}

static void remember_lookup_and_expiry(struct kunit *test)
{
	struct pm_flow a = flow_out(0x0a000002, 443, 77);
	struct pm_remember *rp = kunit_kzalloc(test, sizeof(*rp), GFP_KERNEL);
	struct pm_remember_key k, other;

	KUNIT_ASSERT_NOT_NULL(test, rp);
	pm_remember_init(rp);
	pm_remember_key(&a, &k);
	other = k;
	other.port = 444;
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k, 100, NULL), 0u);
	KUNIT_ASSERT_EQ(test, pm_remember_add(rp, &k, PM_MARK_ACCEPT_ALWAYS, NOW, 200, 16, NULL), 0);
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k, 199, NULL), (u32)PM_MARK_ACCEPT_ALWAYS);
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &other, 199, NULL), 0u);
	/* a new verdict for the same flows replaces the old one */
	KUNIT_ASSERT_EQ(test, pm_remember_add(rp, &k, PM_MARK_BLOCK_ALWAYS, NOW, 300, 16, NULL), 0);
	KUNIT_EXPECT_EQ(test, rp->count, 1u);
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k, 250, NULL), (u32)PM_MARK_BLOCK_ALWAYS);
	/* expired: a miss at once, taken out by the next change */
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k, 300, NULL), 0u);
	KUNIT_ASSERT_EQ(test, pm_remember_add(rp, &other, PM_MARK_ACCEPT_ALWAYS, 300, 1000, 16, NULL), 0);
	KUNIT_EXPECT_EQ(test, rp->count, 1u);
	pm_remember_destroy(rp);
}

static void remember_bound_and_flush(struct kunit *test)
{
	struct pm_remember *rp = kunit_kzalloc(test, sizeof(*rp), GFP_KERNEL);
	struct pm_remember_key k[5];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, rp);
	pm_remember_init(rp);
	for (i = 0; i < 5; i++) {
		struct pm_flow f = flow_out(0x0a000002, 1000 + i, 77);

		pm_remember_key(&f, &k[i]);
		KUNIT_ASSERT_EQ(test, pm_remember_add(rp, &k[i], PM_MARK_ACCEPT_ALWAYS, NOW, 1000, 3, NULL), 0);
	}
	KUNIT_EXPECT_EQ(test, rp->count, 3u);
	/* the oldest two made room */
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k[0], 10, NULL), 0u);
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k[1], 10, NULL), 0u);
	for (i = 2; i < 5; i++)
		KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k[i], 10, NULL),
				(u32)PM_MARK_ACCEPT_ALWAYS);
	/* a bound of 0 remembers nothing */
	KUNIT_EXPECT_EQ(test, pm_remember_add(rp, &k[0], PM_MARK_ACCEPT_ALWAYS, NOW, 1000, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, rp->count, 0u);
	KUNIT_ASSERT_EQ(test, pm_remember_add(rp, &k[1], PM_MARK_ACCEPT_ALWAYS, NOW, 1000, 3, NULL), 0);
	KUNIT_EXPECT_EQ(test, pm_remember_flush(rp), 1u);
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k[1], 10, NULL), 0u);
	pm_remember_destroy(rp);
}

/* Many entries: the buckets grow with the bound, every entry is found. */
static void remember_many(struct kunit *test)
{
	struct pm_remember *rp = kunit_kzalloc(test, sizeof(*rp), GFP_KERNEL);
	struct pm_remember_key k;
	int i, found = 0;

	KUNIT_ASSERT_NOT_NULL(test, rp);
	pm_remember_init(rp);
	for (i = 0; i < 2000; i++) {
		struct pm_flow f = flow_out(0x0a000000 + i, 443, 77);

		pm_remember_key(&f, &k);
		KUNIT_ASSERT_EQ(test, pm_remember_add(rp, &k, PM_MARK_ACCEPT_ALWAYS, NOW, 1000, 4096, NULL), 0);
	}
	KUNIT_EXPECT_EQ(test, rcu_access_pointer(rp->buckets)->bits, 12u);
	for (i = 0; i < 2000; i++) {
		struct pm_flow f = flow_out(0x0a000000 + i, 443, 77);

		pm_remember_key(&f, &k);
		found += pm_remember_lookup(rp, &k, 10, NULL) == PM_MARK_ACCEPT_ALWAYS;
	}
	KUNIT_EXPECT_EQ(test, found, 2000);
	pm_remember_destroy(rp);
}

/* A remembered verdict keeps the program's path for its reports. */
static void remember_exe(struct kunit *test)
{
	struct pm_remember *rp = kunit_kzalloc(test, sizeof(*rp), GFP_KERNEL);
	struct pm_flow a = flow_out(0x0a000002, 443, 77);
	const char *exe = NULL;
	struct pm_remember_key k;

	KUNIT_ASSERT_NOT_NULL(test, rp);
	pm_remember_init(rp);
	pm_remember_key(&a, &k);
	KUNIT_ASSERT_EQ(test, pm_remember_add(rp, &k, PM_MARK_ACCEPT_ALWAYS, NOW, 1000, 16,
					      "/usr/bin/curl"), 0);
	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, pm_remember_lookup(rp, &k, 10, &exe), (u32)PM_MARK_ACCEPT_ALWAYS);
	KUNIT_EXPECT_STREQ(test, exe, "/usr/bin/curl");
	rcu_read_unlock();
	pm_remember_destroy(rp);
}

static struct kunit_case remember_test_cases[] = {
	KUNIT_CASE(remember_key),
	KUNIT_CASE(remember_lookup_and_expiry),
	KUNIT_CASE(remember_bound_and_flush),
	KUNIT_CASE(remember_many),
	KUNIT_CASE(remember_exe),
	{}
};

/* Entries go after a grace period, by our callback: before the module. */
static void remember_exit(struct kunit *test)
{
	rcu_barrier();
}

static struct kunit_suite remember_test_suite = {
	.name = "portmaster_remember",
	.exit = remember_exit,
	.test_cases = remember_test_cases,
};

kunit_test_suite(remember_test_suite);

// SPDX-License-Identifier: GPL-2.0
/* The control protocol's encoding and request parsing. */
#include "test_common.h"
#include "control/proto.h"

static void test_pct(void **state)
{
	struct buf b;
	char s[64];

	(void)state;
	buf_init(&b);
	pct_encode(&b, "/a b%c\n\x7f\xc3\xa9");
	assert_string_equal(b.p, "/a%20b%25c%0A%7F%C3%A9");
	strcpy(s, b.p);
	assert_int_equal(pct_decode(s), 0);
	assert_string_equal(s, "/a b%c\n\x7f\xc3\xa9");
	buf_free(&b);
	strcpy(s, "bad%2");
	assert_int_equal(pct_decode(s), -1);
	strcpy(s, "bad%g0");
	assert_int_equal(pct_decode(s), -1);
	strcpy(s, "nul%00");
	assert_int_equal(pct_decode(s), -1);
}

static void test_parse_req(void **state)
{
	struct proto_req r;
	const char *err;
	char line[256];

	(void)state;
	strcpy(line, "rule-add action=allow exe=/a%20b  port=80");
	assert_int_equal(proto_parse_req(line, &r, &err), 0);
	assert_string_equal(r.cmd, "rule-add");
	assert_int_equal(r.nargs, 3);
	assert_string_equal(proto_arg(&r, "exe"), "/a b");
	assert_string_equal(proto_arg(&r, "port"), "80");
	assert_null(proto_arg(&r, "uid"));

	strcpy(line, "");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	assert_string_equal(err, "empty request");
	strcpy(line, "status junk");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	assert_string_equal(err, "argument is not KEY=VALUE");
	strcpy(line, "Status");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	strcpy(line, "x a=1 a=2");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	assert_string_equal(err, "argument given twice");
	strcpy(line, "x A=1");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	strcpy(line, "x a=%zz");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	strcpy(line, "x a=1\tb=2");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	strcpy(line, "x a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11 l=12 m=13 n=14 o=15 p=16 q=17");
	assert_int_equal(proto_parse_req(line, &r, &err), -1);
	assert_string_equal(err, "too many arguments");
}

static void test_records(void **state)
{
	struct buf b;
	struct proto_kv kv[8];
	char *line;

	(void)state;
	buf_init(&b);
	rec_u64(&b, "id", 42);
	rec_str(&b, "exe", "/usr/bin/my app");
	rec_i64(&b, "pid", -1);
	rec_end(&b);
	assert_string_equal(b.p, "id=42 exe=/usr/bin/my%20app pid=-1\n");
	line = strdup(b.p);
	line[strlen(line) - 1] = 0;
	assert_int_equal(proto_parse_record(line, kv, 8), 3);
	assert_string_equal(kv[1].val, "/usr/bin/my app");
	free(line);
	assert_int_equal(proto_parse_record(strcpy(malloc(16), "noequals"), kv, 8), -1);
	buf_free(&b);
	assert_true(proto_key_numeric("packets"));
	assert_false(proto_key_numeric("exe"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_parse_req),
		cmocka_unit_test(test_records),
	};

	return RUN("proto", tests);
}

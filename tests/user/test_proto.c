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
	static const char *const bad[][2] = {
		{ "", "empty request" },
		{ "status", "request is not a JSON object on one line: {\"cmd\": ..., \"args\": {...}}" },
		{ "{\"cmd\":\"status\"} x", "request is not a JSON object on one line: {\"cmd\": ..., \"args\": {...}}" },
		{ "[\"status\"]", "request is not a JSON object on one line: {\"cmd\": ..., \"args\": {...}}" },
		{ "{\"cmd\":\"status\",}", "request is not a JSON object on one line: {\"cmd\": ..., \"args\": {...}}" },
		{ "{\"cmd\":\"Status\"}", "malformed command name" },
		{ "{\"cmd\":5}", "malformed command name" },
		{ "{\"cmd\":\"st\\u0000atus\"}", "malformed command name" },
		{ "{\"cmd\":\"x\",\"extra\":1}", "a request has only cmd and args" },
		{ "{\"cmd\":\"x\",\"args\":[1]}", "args is not an object" },
		{ "{\"cmd\":\"x\",\"args\":{\"A\":\"1\"}}", "malformed argument name" },
		{ "{\"cmd\":\"x\",\"args\":{\"a\":{}}}", "an argument's value is not a string or number (or holds a NUL)" },
		{ "{\"cmd\":\"x\",\"args\":{\"a\":\"n\\u0000ul\"}}", "an argument's value is not a string or number (or holds a NUL)" },
		{ "{\"cmd\":\"x\",\"args\":{\"a\":\"1\tb\"}}", "request contains a control byte (JSON escapes them)" },
		{ "{\"cmd\":\"x\",\"args\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,"
		  "\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17}}",
		  "too many arguments" },
	};
	struct proto_req r;
	const char *err;
	char line[512];

	(void)state;
	strcpy(line, "{\"cmd\":\"rule-add\",\"args\":{\"action\":\"allow\",\"exe\":\"/a b\\n\",\"port\":80}}");
	assert_int_equal(proto_parse_req(line, &r, &err), 0);
	assert_string_equal(r.cmd, "rule-add");
	assert_int_equal(r.nargs, 3);
	assert_string_equal(proto_arg(&r, "exe"), "/a b\n");
	assert_string_equal(proto_arg(&r, "port"), "80");	/* a number, as its text */
	assert_null(proto_arg(&r, "uid"));
	strcpy(line, "{\"cmd\":\"status\"}");
	assert_int_equal(proto_parse_req(line, &r, &err), 0);
	assert_int_equal(r.nargs, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(line, bad[i][0]);
		if (proto_parse_req(line, &r, &err) != -1 || strcmp(err, bad[i][1]))
			fail_msg("'%s': want error '%s'", bad[i][0], bad[i][1]);
	}
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	{
		char *big = malloc(PROTO_MAX_LINE + 10);

		memset(big, ' ', PROTO_MAX_LINE + 9);
		big[PROTO_MAX_LINE + 9] = 0;
		assert_int_equal(proto_parse_req(big, &r, &err), -1);
		assert_string_equal(err, "request line too long");
		free(big);
	}
}

static void test_records(void **state)
{
	struct buf b, req, args;
	struct proto_kv kv[8];
	char code[16], msg[64];
	long n;
	char *line;

	(void)state;
	buf_init(&b);
	rec_u64(&b, "id", 42);
	rec_str(&b, "exe", "/usr/bin/my \"app\"\n");
	rec_i64(&b, "pid", -1);
	rec_end(&b);
	assert_string_equal(b.p, "{\"id\":42,\"exe\":\"/usr/bin/my \\\"app\\\"\\n\",\"pid\":-1}\n");
	line = strdup(b.p);
	line[strlen(line) - 1] = 0;
	assert_int_equal(proto_parse_record(line, kv, 8), 3);
	assert_string_equal(kv[0].key, "id");
	assert_string_equal(kv[0].val, "42");
	assert_true(kv[0].num);
	assert_string_equal(kv[1].val, "/usr/bin/my \"app\"\n");
	assert_false(kv[1].num);
	assert_string_equal(kv[2].val, "-1");
	free(line);
	assert_int_equal(proto_parse_record(strcpy(malloc(16), "noequals"), kv, 8), -1);
	assert_int_equal(proto_parse_record(strcpy(malloc(32), "{\"a\":[1]}"), kv, 8), -1);
	assert_int_equal(proto_parse_record(strcpy(malloc(32), "{\"a\":1,\"b\":2}"), kv, 1), -1);
	buf_free(&b);

	buf_init(&b);
	proto_ok(&b, 3);
	proto_error(&b, "usage", "bad \"x\"");
	assert_string_equal(b.p, "{\"ok\":3}\n{\"error\":\"usage\",\"message\":\"bad \\\"x\\\"\"}\n");
	*strchr(b.p, '\n') = 0;
	assert_int_equal(proto_parse_header(b.p, &n, code, sizeof(code), msg, sizeof(msg)), 0);
	assert_int_equal(n, 3);
	line = b.p + strlen(b.p) + 1;
	line[strlen(line) - 1] = 0;
	assert_int_equal(proto_parse_header(line, &n, code, sizeof(code), msg, sizeof(msg)), 1);
	assert_string_equal(code, "usage");
	assert_string_equal(msg, "bad \"x\"");
	assert_int_equal(proto_parse_header("ok 1", &n, code, sizeof(code), msg, sizeof(msg)), -1);
	assert_int_equal(proto_parse_header("{\"ok\":-1}", &n, code, sizeof(code), msg, sizeof(msg)), -1);
	buf_free(&b);

	buf_init(&req);
	buf_init(&args);
	rec_str(&args, "id", "7");
	proto_request(&req, "verdict", &args);
	assert_string_equal(req.p, "{\"cmd\":\"verdict\",\"args\":{\"id\":\"7\"}}\n");
	proto_request(&req, "status", NULL);
	assert_string_equal(req.p + strlen("{\"cmd\":\"verdict\",\"args\":{\"id\":\"7\"}}\n"),
			    "{\"cmd\":\"status\"}\n");
	buf_free(&req);
	buf_free(&args);
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

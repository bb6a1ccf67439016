// SPDX-License-Identifier: GPL-2.0
/* pmctl's argument handling and exit statuses (0 ok, 1 error, 2 usage),
 * and its output formats against a scripted daemon. */
#include "test_common.h"
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "pmctl.h"

static char sock_path[108];
static char last_request[4096];
static const char *canned;

static void *fake_daemon(void *arg)
{
	int srv = *(int *)arg, c;
	ssize_t n;

	while ((c = accept(srv, NULL, NULL)) >= 0) {
		size_t got = 0;

		/* the whole request line, as the daemon reads it */
		while (got < sizeof(last_request) - 1 &&
		       (n = read(c, last_request + got, sizeof(last_request) - 1 - got)) > 0) {
			got += (size_t)n;
			if (last_request[got - 1] == '\n')
				break;
		}
		last_request[got] = 0;
		if (write(c, canned, strlen(canned)) < 0)
			break;
		close(c);
	}
	return NULL;
}

static int setup(void **state)
{
	static int srv;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	pthread_t t;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/pmctl-test.%d.sock", (int)getpid());
	strcpy(sun.sun_path, sock_path);
	unlink(sock_path);
	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(srv, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(srv, 8) < 0)
		return -1;
	pthread_create(&t, NULL, fake_daemon, &srv);
	pthread_detach(t);
	setenv("PMCTL_SOCKET", sock_path, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	return 0;
}

static int pmctl(char *out, size_t outlen, ...)
{
	char *argv[32] = { "pmctl" };
	int argc = 1, r;
	va_list ap;
	FILE *o = fmemopen(out, outlen, "w"), *e = fopen("/dev/null", "w");

	va_start(ap, outlen);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	memset(out, 0, outlen);
	r = pmctl_main(argc, argv, o, e);
	fclose(o);
	fclose(e);
	return r;
}

static void test_usage_errors(void **state)
{
	char out[4096];

	(void)state;
	canned = "{\"ok\":0}\n";
	assert_int_equal(pmctl(out, sizeof(out), NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "frobnicate", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "status", "extra", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "verdict", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "x", "accept", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "1", "maybe", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "1", "accept", "--forever", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "permit", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--port", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--colour", "red", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--once", "--always", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--for", "soon", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--port", "1", "--port", "2", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "del", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "del", "-3", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "move", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "move", "1", "--up", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "move", "1", "--before", "x", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--first", "--before", "2", NULL),
			 EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "1", "allow", "--match", "exe", NULL),
			 EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "1", "allow", "--once", "--always", NULL),
			 EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "1", "ask", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "default", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "default", "sometimes", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "-s", NULL), EXIT_USAGE);
	assert_int_equal(pmctl(out, sizeof(out), "help", "me", NULL), EXIT_USAGE);
}

static void test_ok_and_errors(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(pmctl(out, sizeof(out), "--version", NULL), EXIT_OK);
	assert_non_null(strstr(out, "pmctl "));
	assert_int_equal(pmctl(out, sizeof(out), "help", NULL), EXIT_OK);
	assert_non_null(strstr(out, "pmctl verdict ID accept|allow|block|drop"));
	assert_non_null(strstr(out, "pmctl rule move ID --first|--last|--before ID"));
	canned = "{\"ok\":0}\n";
	assert_int_equal(pmctl(out, sizeof(out), "default", "drop", NULL), EXIT_OK);
	assert_string_equal(last_request, "{\"cmd\":\"default\",\"args\":{\"action\":\"drop\"}}\n");
	/* --permanent is what no scope means: this connection, kept on it */
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "12", "accept", "--permanent", NULL), EXIT_OK);
	assert_string_equal(last_request, "{\"cmd\":\"verdict\",\"args\":{\"id\":\"12\","
			    "\"action\":\"accept\"}}\n");
	canned = "{\"ok\":1}\n{\"id\":7,\"action\":\"block\",\"scope\":\"for\",\"expires_in\":600,"
		 "\"exe\":\"/usr/bin/nc\"}\n";
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "12", "block", "--for", "10m",
			       "--match", "exe", NULL), EXIT_OK);
	assert_string_equal(last_request, "{\"cmd\":\"verdict\",\"args\":{\"id\":\"12\","
			    "\"action\":\"block\",\"scope\":\"for\",\"for\":\"10m\",\"match\":\"exe\"}}\n");
	assert_non_null(strstr(out, "/usr/bin/nc"));
	canned = "{\"ok\":0}\n";
	assert_int_equal(pmctl(out, sizeof(out), "rule", "move", "3", "--before", "1", NULL), EXIT_OK);
	assert_string_equal(last_request, "{\"cmd\":\"rule-move\",\"args\":{\"id\":\"3\","
			    "\"before\":\"1\"}}\n");
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "drop", "--port", "9", "--first", NULL),
			 EXIT_OK);
	assert_string_equal(last_request, "{\"cmd\":\"rule-add\",\"args\":{\"action\":\"drop\","
			    "\"port\":\"9\",\"scope\":\"always\",\"first\":\"yes\"}}\n");
	canned = "{\"ok\":1}\n{\"id\":4,\"action\":\"allow\",\"scope\":\"for\",\"expires_in\":60,"
		 "\"exe\":\"/a b\"}\n";
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--exe", "/a b",
			       "--for", "1m", "--dst", "fd00::/8", NULL), EXIT_OK);
	assert_string_equal(last_request,
			    "{\"cmd\":\"rule-add\",\"args\":{\"action\":\"allow\",\"exe\":\"/a b\","
			    "\"dst\":\"fd00::/8\",\"scope\":\"for\",\"for\":\"1m\"}}\n");
	/* daemon errors: 1, or 2 when the daemon says the usage was bad */
	canned = "{\"error\":\"noent\",\"message\":\"no pending flow 12\"}\n";
	assert_int_equal(pmctl(out, sizeof(out), "verdict", "12", "drop", NULL), EXIT_ERR);
	canned = "{\"error\":\"perm\",\"message\":\"permission denied\"}\n";
	assert_int_equal(pmctl(out, sizeof(out), "default", "allow", NULL), EXIT_ERR);
	canned = "{\"error\":\"usage\",\"message\":\"bad port\"}\n";
	assert_int_equal(pmctl(out, sizeof(out), "rule", "add", "allow", "--port", "0", NULL), EXIT_USAGE);
	canned = "garbage\n";
	assert_int_equal(pmctl(out, sizeof(out), "status", NULL), EXIT_ERR);
	canned = "ok 0\n";	/* the old protocol is no reply */
	assert_int_equal(pmctl(out, sizeof(out), "status", NULL), EXIT_ERR);
	canned = "{\"ok\":2}\n{\"id\":1}\n";	/* fewer records than announced */
	assert_int_equal(pmctl(out, sizeof(out), "list", NULL), EXIT_ERR);
	/* no daemon at all */
	assert_int_equal(pmctl(out, sizeof(out), "-s", "/nonexistent/sock", "status", NULL), EXIT_ERR);
}

static void test_formats(void **state)
{
	char out[4096];

	(void)state;
	/* -j prints what it printed with the line protocol: the same
	 * spacing, numbers as numbers, text as text, keys in the daemon's
	 * order (domain, which issue 12 added, after the rest here) */
	canned = "{\"ok\":2}\n{\"id\":1,\"dir\":\"out\",\"proto\":\"tcp\",\"src\":\"10.0.0.1\","
		 "\"sport\":4000,\"dst\":\"10.0.0.2\",\"dport\":80,\"pid\":42,\"uid\":0,"
		 "\"exe\":\"/usr/bin/curl\",\"verdict\":\"allow\",\"packets\":1,"
		 "\"domain\":\"www.example.com\"}\n"
		 "{\"id\":2,\"dir\":\"in\",\"proto\":\"udp\",\"src\":\"fd00::2\",\"sport\":53,"
		 "\"dst\":\"fd00::1\",\"dport\":5353,\"pid\":0,\"uid\":\"-\",\"exe\":\"/my\\tapp\","
		 "\"verdict\":\"pending\",\"packets\":2}\n";
	assert_int_equal(pmctl(out, sizeof(out), "list", "-j", NULL), EXIT_OK);
	assert_string_equal(out,
		"[{\"id\": 1, \"dir\": \"out\", \"proto\": \"tcp\", \"src\": \"10.0.0.1\", \"sport\": 4000, "
		"\"dst\": \"10.0.0.2\", \"dport\": 80, \"pid\": 42, \"uid\": 0, \"exe\": \"/usr/bin/curl\", "
		"\"verdict\": \"allow\", \"packets\": 1, \"domain\": \"www.example.com\"},\n {\"id\": 2, \"dir\": \"in\", \"proto\": \"udp\", "
		"\"src\": \"fd00::2\", \"sport\": 53, \"dst\": \"fd00::1\", \"dport\": 5353, \"pid\": 0, "
		"\"uid\": \"-\", \"exe\": \"/my\\u0009app\", \"verdict\": \"pending\", \"packets\": 2}]\n");
	assert_int_equal(pmctl(out, sizeof(out), "-t", "list", NULL), EXIT_OK);
	assert_string_equal(out,
		"1\tout\ttcp\t10.0.0.1\t4000\t10.0.0.2\t80\t42\t0\t/usr/bin/curl\tallow\t1\twww.example.com\t-\t-\n"
		"2\tin\tudp\tfd00::2\t53\tfd00::1\t5353\t0\t-\t/my app\tpending\t2\t-\t-\t-\n");
	assert_int_equal(pmctl(out, sizeof(out), "list", NULL), EXIT_OK);
	assert_non_null(strstr(out, "id  dir  proto  src"));
	canned = "{\"ok\":0}\n";
	assert_int_equal(pmctl(out, sizeof(out), "-j", "default", "allow", NULL), EXIT_OK);
	assert_string_equal(out, "{}\n");
}

/*
 * pmctl status in module mode, with the history and the resolver on, is
 * one record of some 80 keys: all of them read, none refused as
 * "malformed" (64 was once the limit), and a record past REC_MAX_KV is an
 * error, never a record cut short.
 */
static void test_wide_record(void **state)
{
	static char reply[16384], out[16384];
	size_t off;

	(void)state;
	off = (size_t)snprintf(reply, sizeof(reply), "{\"ok\":1}\n{\"mode\":\"kmod\"");
	for (int i = 1; i < 100; i++)
		off += (size_t)snprintf(reply + off, sizeof(reply) - off, ",\"k%d\":%d", i, i);
	snprintf(reply + off, sizeof(reply) - off, ",\"dns_queries\":7}\n");
	canned = reply;
	assert_int_equal(pmctl(out, sizeof(out), "-t", "status", NULL), EXIT_OK);
	assert_non_null(strstr(out, "mode\tkmod\n"));
	assert_non_null(strstr(out, "k99\t99\n"));
	assert_non_null(strstr(out, "dns_queries\t7\n"));
	off = (size_t)snprintf(reply, sizeof(reply), "{\"ok\":1}\n{\"mode\":\"kmod\"");
	for (int i = 1; i < REC_MAX_KV + 1; i++)
		off += (size_t)snprintf(reply + off, sizeof(reply) - off, ",\"k%d\":%d", i, i);
	snprintf(reply + off, sizeof(reply) - off, "}\n");
	assert_int_equal(pmctl(out, sizeof(out), "-t", "status", NULL), EXIT_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_ok_and_errors),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_wide_record),
	};

	return cmocka_run_group_tests_name("pmctl", tests, setup, teardown);
}

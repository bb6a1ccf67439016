// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include "common/util.h"

/*
 * The coarse clock (a few ms of resolution, enough for timeouts and
 * expiry) is read from the vDSO even where the precise one needs a system
 * call (an unstable TSC, as under emulation): the engine reads it for
 * every flow.
 */
uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 20)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = parse_u64(s, max, &v);

	if (r == 0)
		*out = (uint32_t)v;
	return r;
}

int parse_duration(const char *s, uint64_t *secs)
{
	char num[24];
	size_t n = strlen(s);
	uint64_t mult = 1, v;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': mult = 1; num[--n] = 0; break;
	case 'm': mult = 60; num[--n] = 0; break;
	case 'h': mult = 3600; num[--n] = 0; break;
	case 'd': mult = 86400; num[--n] = 0; break;
	default: break;
	}
	if (parse_u64(num, 10ULL * 366 * 86400, &v) < 0 || v == 0)
		return -EINVAL;
	v *= mult;
	if (v > 10ULL * 366 * 86400)
		return -ERANGE;
	*secs = v;
	return 0;
}

static bool host_bits_zero(const uint8_t *a, unsigned int bytes, uint8_t plen)
{
	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int bit = i * 8;
		uint8_t keep;

		if (bit + 8 <= plen)
			continue;
		keep = bit >= plen ? 0 : (uint8_t)(0xff << (8 - (plen - bit)));
		if (a[i] & (uint8_t)~keep)
			return false;
	}
	return true;
}

int parse_prefix(const char *s, uint8_t *family, uint8_t addr[16], uint8_t *plen)
{
	char buf[64];
	char *slash;
	uint32_t len = 0;
	unsigned int max;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	if (slash) {
		if (parse_u32(slash, max, &len) < 0)
			return -EINVAL;
	} else {
		len = max;
	}
	if (!host_bits_zero(addr, max / 8, (uint8_t)len))
		return -EINVAL;
	*plen = (uint8_t)len;
	return 0;
}

int parse_hostport(const char *s, uint8_t *family, uint8_t addr[16], uint16_t *port)
{
	char buf[64];
	const char *host = buf, *p = NULL;
	uint32_t v = 0;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	memset(addr, 0, 16);
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end)
			return -EINVAL;
		*end = 0;
		host = buf + 1;
		if (end[1] == ':')
			p = end + 2;
		else if (end[1])
			return -EINVAL;
		if (inet_pton(AF_INET6, host, addr) != 1)
			return -EINVAL;
		*family = AF_INET6;
	} else {
		char *colon = strchr(buf, ':');

		if (colon && strchr(colon + 1, ':')) {
			/* a bare IPv6 address, no port */
			if (inet_pton(AF_INET6, buf, addr) != 1)
				return -EINVAL;
			*family = AF_INET6;
		} else {
			if (colon) {
				*colon = 0;
				p = colon + 1;
			}
			if (inet_pton(AF_INET, buf, addr) != 1)
				return -EINVAL;
			*family = AF_INET;
		}
	}
	if (p && (parse_u32(p, 65535, &v) < 0 || v == 0))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* Decimal digits of one byte of a dotted quad; returns the end. */
static char *put_octet(char *p, unsigned int v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

const char *addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	/* By hand: glibc's inet_ntop formats a v4 address through sprintf,
	 * a tenth of what writing a flow to the history costs. */
	if (family != AF_INET6 && len >= INET_ADDRSTRLEN) {
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_octet(p, addr[i]);
		}
		*p = 0;
		return buf;
	}
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

bool prefix_match(uint8_t family, const uint8_t *addr, const uint8_t *prefix, uint8_t plen)
{
	unsigned int full = plen / 8, rest = plen % 8;

	(void)family;
	if (memcmp(addr, prefix, full))
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		if ((addr[full] & m) != (prefix[full] & m))
			return false;
	}
	return true;
}

int xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd;

	if (xsnprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) < 0 ||
	    xsnprintf(dir, sizeof(dir), "%s", path) < 0) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* The rename is durable only once the directory is. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

uint64_t hash_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = now_us() ^ (uint64_t)getpid() << 32;
	return seed;
}

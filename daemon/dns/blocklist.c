// SPDX-License-Identifier: GPL-2.0
/* Blocklists as sorted hashes (see blocklist.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dns/blocklist.h"
#include "dns/names.h"

#define NBUCKETS (1u << BLOCKLIST_INDEX_BITS)

void blocklist_init(struct blocklist *b, uint64_t seed)
{
	memset(b, 0, sizeof(*b));
	b->seed = seed;
}

void blocklist_free(struct blocklist *b)
{
	free(b->h);
	free(b->index);
	blocklist_init(b, b->seed);
}

/*
 * Names are hashed label by label from the right (FNV-1a, keyed by the
 * seed), so that one pass over a name gives the running hash of each of
 * its parent domains in turn; each is finished with a full avalanche
 * (splitmix64's finaliser) so that the top bits spread evenly.
 */
static uint64_t label_step(uint64_t h, const char *label, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)label[i]) * 0x100000001b3ull;
	return (h ^ '.') * 0x100000001b3ull;
}

static uint64_t finish(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

static uint64_t name_hash(uint64_t seed, const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	size_t end = n;

	for (size_t i = n; i-- > 0;) {
		if (s[i] == '.') {
			h = label_step(h, s + i + 1, end - i - 1);
			end = i;
		}
	}
	return finish(label_step(h, s, end));
}

int blocklist_add_name(struct blocklist *b, const char *canon)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint64_t *h = realloc(b->h, cap * sizeof(*h));

		if (!h)
			return -1;
		b->h = h;
		b->cap = cap;
	}
	b->h[b->n++] = name_hash(b->seed, canon, strlen(canon));
	return 0;
}

static bool is_address(const char *w)
{
	/* hosts files map names to 0.0.0.0, 127.0.0.1, ::, ::1 and the like */
	return strspn(w, "0123456789.") == strlen(w) || strchr(w, ':');
}

static bool is_local_name(const char *w)
{
	static const char *const local[] = { "localhost", "localhost.localdomain", "local",
					     "broadcasthost", "ip6-localhost", "ip6-loopback",
					     "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes",
					     "ip6-allrouters", "ip6-allhosts", "0.0.0.0" };

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (!strcmp(w, local[i]))
			return true;
	return false;
}

/* One line: "ADDR NAME..." (hosts), "NAME" or "||NAME^" (domain lists). */
static int add_line(struct blocklist *b, char *line)
{
	char *save = NULL, *w, canon[DNS_NAME_MAX];
	bool hosts = false, any = false;
	int words = 0;

	for (char *c = line; *c; c++)
		if (*c == '#' || *c == '!') {
			*c = 0;
			break;
		}
	for (w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		size_t n = strlen(w);

		if (words++ == 0 && is_address(w)) {
			hosts = true;
			continue;
		}
		if (!hosts && words > 1)
			break;	/* a domain list has one name a line */
		if (n > 3 && w[0] == '|' && w[1] == '|' && w[n - 1] == '^') {
			w[n - 1] = 0;
			w += 2;
		} else if (n > 2 && w[0] == '*' && w[1] == '.') {
			w += 2;	/* the domain blocks its subdomains anyway */
		}
		if (is_local_name(w))
			continue;
		if (dns_name_canon(w, canon, sizeof(canon)) < 0 || !strchr(canon, '.'))
			return words == 1 && !hosts ? -2 : 0;
		if (blocklist_add_name(b, canon) < 0)
			return -1;
		any = true;
	}
	(void)any;
	return 0;
}

int blocklist_add_text(struct blocklist *b, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	char line[1024];

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int r;

		if (n >= sizeof(line) || memchr(p, 0, n)) {
			b->lines_skipped++;
		} else {
			memcpy(line, p, n);
			line[n] = 0;
			r = add_line(b, line);
			if (r == -1)
				return -1;
			if (r == -2)
				b->lines_skipped++;
		}
		p += n + 1;
	}
	return 0;
}

int blocklist_add_file(struct blocklist *b, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = blocklist_add_text(b, m, (size_t)st.st_size);
	munmap(m, (size_t)st.st_size);
	if (r < 0)
		snprintf(err, errlen, "%s: out of memory", path);
	return r;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

int blocklist_seal(struct blocklist *b)
{
	size_t j = 0;

	if (!b->index) {
		b->index = calloc(NBUCKETS + 1, sizeof(*b->index));
		if (!b->index)
			return -1;
	}
	if (b->n > UINT32_MAX)
		return -1;
	if (b->n)
		qsort(b->h, b->n, sizeof(*b->h), cmp_u64);
	for (size_t i = 0; i < b->n; i++)
		if (!j || b->h[i] != b->h[j - 1])
			b->h[j++] = b->h[i];
	b->n = j;
	if (b->n && b->n < b->cap) {
		uint64_t *h = realloc(b->h, b->n * sizeof(*h));

		if (h) {
			b->h = h;
			b->cap = b->n;
		}
	}
	/* index[k]: the first entry whose top bits are >= k */
	for (size_t i = 0, k = 0; k <= NBUCKETS; k++) {
		while (i < b->n && (b->h[i] >> (64 - BLOCKLIST_INDEX_BITS)) < k)
			i++;
		b->index[k] = (uint32_t)i;
	}
	return 0;
}

static bool contains(const struct blocklist *b, uint64_t h)
{
	size_t k = (size_t)(h >> (64 - BLOCKLIST_INDEX_BITS));
	size_t lo = b->index[k], hi = b->index[k + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->h[mid] == h)
			return true;
		if (b->h[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool blocklist_match(const struct blocklist *b, const char *canon)
{
	uint64_t h = 0xcbf29ce484222325ull ^ b->seed;
	size_t n = strlen(canon), end = n;

	if (!b->n || !b->index)
		return false;
	/* the top domain, then each one below it, down to the name itself */
	for (size_t i = n; i-- > 0;) {
		if (canon[i] != '.')
			continue;
		h = label_step(h, canon + i + 1, end - i - 1);
		end = i;
		if (contains(b, finish(h)))
			return true;
	}
	return contains(b, finish(label_step(h, canon, end)));
}

size_t blocklist_bytes(const struct blocklist *b)
{
	return b->cap * sizeof(*b->h) + (b->index ? (NBUCKETS + 1) * sizeof(*b->index) : 0);
}

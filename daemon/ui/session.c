// SPDX-License-Identifier: GPL-2.0
/*
 * Browser sessions: made only by a login URL's token (which the daemon
 * checks and uses up), named by 256 random bits in an HttpOnly
 * SameSite=Strict cookie, forgotten after a day unused.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "ui/webui.h"

#define SESSIONS 32
#define IDLE_S (24 * 3600)

struct session {
	char hex[65];
	bool admin;
	time_t used;
};

static struct session sessions[SESSIONS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static time_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

bool session_new(bool admin, char out[65])
{
	unsigned char raw[32];
	struct session *s = NULL;
	time_t now = mono();

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return false;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < SESSIONS; i++)
		if (!sessions[i].hex[0] || now - sessions[i].used > IDLE_S) {
			s = &sessions[i];
			break;
		}
	if (!s) {
		/* Full: the longest unused one goes. */
		s = &sessions[0];
		for (int i = 1; i < SESSIONS; i++)
			if (sessions[i].used < s->used)
				s = &sessions[i];
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(s->hex + 2 * i, 3, "%02x", raw[i]);
	s->admin = admin;
	s->used = now;
	memcpy(out, s->hex, 65);
	pthread_mutex_unlock(&lock);
	return true;
}

bool session_check(const char *value, bool *admin)
{
	time_t now = mono();
	bool ok = false;

	if (!value || strlen(value) != 64)
		return false;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < SESSIONS; i++) {
		unsigned char diff = 0;

		if (!sessions[i].hex[0] || now - sessions[i].used > IDLE_S)
			continue;
		for (int k = 0; k < 64; k++)
			diff |= (unsigned char)(sessions[i].hex[k] ^ value[k]);
		if (!diff) {
			sessions[i].used = now;
			*admin = sessions[i].admin;
			ok = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

void session_end(const char *value)
{
	if (!value || strlen(value) != 64)
		return;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < SESSIONS; i++)
		if (!strcmp(sessions[i].hex, value))
			memset(&sessions[i], 0, sizeof(sessions[i]));
	pthread_mutex_unlock(&lock);
}

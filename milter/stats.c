/* stats.c: the stats line and the tripped-key log (see stats.h).  Small
 * fixed tables under one mutex: touched only on refusals and at EOM for
 * rate keys, never per stage. */

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "stats.h"

#define STATS_VERDICTS 128
#define STATS_LOGINS 32
#define STATS_TOP 5
#define STATS_LABEL_MAX 64
#define STATS_LOGIN_MAX 128
#define TRIP_SLOTS 4096
#define TRIP_FORGET_MS (3600 * 1000ULL)

struct verdict_count {
	char listener[STATS_LABEL_MAX];
	enum milter_rule rule;
	const char *verdict;	/* static: milter_decision_word() */
	uint64_t count;
};

struct login_count {
	char login[STATS_LOGIN_MAX];
	uint64_t count;
};

struct trip {
	uint64_t hash;		/* 0 = empty */
	uint64_t at_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t sessions;
static struct verdict_count verdicts[STATS_VERDICTS];
static unsigned int verdict_used;
static uint64_t verdicts_dropped;
static struct login_count logins[STATS_LOGINS];
static struct trip trips[TRIP_SLOTS];

void stats_session(void)
{
	__atomic_add_fetch(&sessions, 1, __ATOMIC_RELAXED);
}

/* Space-saving top-k: a login not in the table replaces the least
   counted one and inherits its count, so heavy hitters stay. */
static void login_count(const char *login)
{
	unsigned int i, min = 0;

	for (i = 0; i < STATS_LOGINS; i++) {
		if (logins[i].count != 0 &&
		    strcmp(logins[i].login, login) == 0) {
			logins[i].count++;
			return;
		}
		if (logins[i].count < logins[min].count)
			min = i;
	}
	snprintf(logins[min].login, sizeof(logins[min].login), "%s", login);
	logins[min].count++;
}

void stats_verdict(const char *listener, enum milter_rule rule,
		   const char *verdict, const char *login)
{
	unsigned int i;

	if (listener == NULL)
		listener = "-";
	pthread_mutex_lock(&lock);
	for (i = 0; i < verdict_used; i++) {
		if (verdicts[i].rule == rule &&
		    strcmp(verdicts[i].verdict, verdict) == 0 &&
		    strncmp(verdicts[i].listener, listener,
			    STATS_LABEL_MAX - 1) == 0)
			break;
	}
	if (i == verdict_used && verdict_used < STATS_VERDICTS) {
		snprintf(verdicts[i].listener, STATS_LABEL_MAX, "%s", listener);
		verdicts[i].rule = rule;
		verdicts[i].verdict = verdict;
		verdicts[i].count = 0;
		verdict_used++;
	}
	if (i < verdict_used)
		verdicts[i].count++;
	else
		verdicts_dropped++;
	if (login != NULL && login[0] != '\0' &&
	    milter_rule_is_rate(rule))
		login_count(login);
	pthread_mutex_unlock(&lock);
}

void stats_log(void)
{
	char line[2048];
	size_t len = 0;
	unsigned int i, k;

	pthread_mutex_lock(&lock);
	len += (size_t)snprintf(line + len, sizeof(line) - len,
				"stats: sessions=%llu verdicts:",
				(unsigned long long)__atomic_exchange_n(
					&sessions, 0, __ATOMIC_RELAXED));
	for (i = 0; i < verdict_used && len < sizeof(line); i++) {
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					" %s/%s/%s=%llu", verdicts[i].listener,
					milter_rule_name(verdicts[i].rule),
					verdicts[i].verdict,
					(unsigned long long)verdicts[i].count);
	}
	if (verdict_used == 0 && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					" none");
	if (verdicts_dropped != 0 && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					" other=%llu", (unsigned long long)
					verdicts_dropped);
	if (len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					" top_limited:");
	for (k = 0; k < STATS_TOP; k++) {
		unsigned int best = STATS_LOGINS;

		for (i = 0; i < STATS_LOGINS; i++) {
			if (logins[i].count != 0 &&
			    (best == STATS_LOGINS ||
			     logins[i].count > logins[best].count))
				best = i;
		}
		if (best == STATS_LOGINS)
			break;
		if (len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						" %s=%llu", logins[best].login,
						(unsigned long long)
						logins[best].count);
		logins[best].count = 0;
	}
	if (k == 0 && len < sizeof(line))
		(void)snprintf(line + len, sizeof(line) - len, " none");
	memset(logins, 0, sizeof(logins));
	verdict_used = 0;
	verdicts_dropped = 0;
	pthread_mutex_unlock(&lock);
	log_msg(LOG_INFO, "%s", line);
}

static uint64_t key_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
	return h == 0 ? 1 : h;
}

bool stats_rate_tripped(const char *key, uint64_t now_ms)
{
	uint64_t h = key_hash(key);
	struct trip *t = &trips[h % TRIP_SLOTS];
	bool fresh;

	pthread_mutex_lock(&lock);
	fresh = t->hash != h || now_ms - t->at_ms >= TRIP_FORGET_MS ||
		now_ms < t->at_ms;
	if (fresh) {
		t->hash = h;
		t->at_ms = now_ms;
	}
	pthread_mutex_unlock(&lock);
	return fresh;
}

void stats_rate_cleared(const char *key)
{
	uint64_t h = key_hash(key);
	struct trip *t = &trips[h % TRIP_SLOTS];

	pthread_mutex_lock(&lock);
	if (t->hash == h)
		t->hash = 0;
	pthread_mutex_unlock(&lock);
}

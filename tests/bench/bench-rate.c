/* bench-rate.c: checks per second of the memory rate store.
 *
 * Absolute figures depend on the machine, so each one is printed next
 * to anchors measured in the same run: the same loop doing only what no
 * store can avoid, SipHash of the key and one mutex lock and unlock
 * ("hash+lock"), and for many keys also reading one random 128-byte
 * record per key out of as many records as keys ("+1 line"): once the
 * keys outgrow the CPU caches, that one memory access per check is what
 * the store's speed is made of.  The ratios check/anchor are what to
 * compare across machines; the target is over 5 M checks/s on one
 * thread.
 *
 * With MP_BENCH_REDIS=HOST:PORT (make bench-rate starts a redis-server),
 * the Redis store too: checks per second from 8 threads, each check a
 * message's three keys (login, client IP, sender) in one call, and the
 * latency one check adds on one thread, next to a bare PING round trip
 * on the same Redis (the floor any Redis store pays); with
 * MP_BENCH_REDIS_ONLY set too, only that (make bench-milter).  Nothing
 * here asserts a time. */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "mailpolicy/rate.h"
#include "../../core/rate-private.h"
#include "../../core/siphash.h"

#define MANY_KEYS 100000
#define LATENCY_SAMPLES 2000
#define MIN_SECONDS 0.5
#define BATCH 100000
#define KEY_SIZE 48
#define LINE_SIZE 128

static char (*keys)[KEY_SIZE];
/* the "+1 line" anchor's records, one per key */
static unsigned char (*lines)[LINE_SIZE];
static volatile uint64_t sink;

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum loop {
	LOOP_CHECK,
	LOOP_ANCHOR,		/* hash + lock/unlock */
	LOOP_ANCHOR_LINE,	/* hash + lock/unlock + read one record */
};

struct run {
	enum loop loop;
	struct mp_rate_store *store;
	pthread_mutex_t *anchor_lock;
	unsigned int first_key, key_count;
	uint64_t checks;
	double seconds;
	uint64_t failures;
};

static void *run_loop(void *context)
{
	static const uint64_t hash_key[2] = { 1, 2 };
	struct run *run = context;
	/* never limited: the allowed path does all the work */
	struct mp_rate_spec rate = { UINT64_MAX / 2, 3600 };
	uint64_t now_ms = mp_rate_clock_ms(), acc = 0;
	const char *error;
	unsigned int k = 0;
	double start = now_seconds(), elapsed;

	do {
		for (unsigned int i = 0; i < BATCH; i++) {
			const char *key = keys[run->first_key + k];

			if (++k == run->key_count)
				k = 0;
			if (run->loop != LOOP_CHECK) {
				uint64_t h = mp_siphash13(hash_key, key,
							       strlen(key));

				pthread_mutex_lock(run->anchor_lock);
				if (run->loop == LOOP_ANCHOR_LINE)
					h += lines[run->first_key +
						   h % run->key_count][0]++;
				pthread_mutex_unlock(run->anchor_lock);
				acc += h;
			} else if (mp_rate_check(run->store, key, &rate,
						 now_ms, NULL, &error) !=
				   MP_RATE_ALLOWED) {
				run->failures++;
			}
		}
		run->checks += BATCH;
		elapsed = now_seconds() - start;
	} while (elapsed < MIN_SECONDS);
	run->seconds = elapsed;
	sink += acc;
	return NULL;
}

/* Runs `threads` loops at once, thread i on keys [first + i*stride,
   +count); returns the total checks per second.  The anchor's threads
   share one mutex when they share keys (as they would share a shard),
   else each has its own. */
static double measure(enum loop loop, struct mp_rate_store *store,
		      unsigned int threads, unsigned int first,
		      unsigned int stride, unsigned int count)
{
	pthread_mutex_t anchor_locks[2] = {
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER
	};
	struct run runs[2];
	pthread_t tids[2];
	double total = 0;

	for (unsigned int i = 0; i < threads; i++) {
		memset(&runs[i], 0, sizeof(runs[i]));
		runs[i].loop = loop;
		runs[i].store = store;
		runs[i].anchor_lock = &anchor_locks[stride == 0 ? 0 : i];
		runs[i].first_key = first + i * stride;
		runs[i].key_count = count;
		if (pthread_create(&tids[i], NULL, run_loop, &runs[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
		if (runs[i].failures != 0) {
			fprintf(stderr, "%ju checks not allowed\n",
				(uintmax_t)runs[i].failures);
			exit(1);
		}
		total += (double)runs[i].checks / runs[i].seconds;
	}
	return total;
}

static void scenario(struct mp_rate_store *store, const char *what,
		     unsigned int threads, unsigned int stride,
		     unsigned int count)
{
	double anchor = measure(LOOP_ANCHOR, NULL, threads, 0, stride, count);
	double checks = measure(LOOP_CHECK, store, threads, 0, stride, count);
	double line;

	printf("rate memory: %-24s %6.2f M checks/s  (hash+lock %5.1f M/s: "
	       "%.2f", what, checks / 1e6, anchor / 1e6, checks / anchor);
	if (count > 1) {
		line = measure(LOOP_ANCHOR_LINE, NULL, threads, 0, stride,
			       count);
		printf("; +1 line %5.2f M/s: %.2f", line / 1e6,
		       checks / line);
	}
	printf(")\n");
}

#define REDIS_THREADS 8
#define REDIS_CHECKS 4000

struct redis_run {
	struct mp_rate_store *store;
	unsigned int id;
	uint64_t failures;
};

/* One check of a message's three keys for user `user`. */
static enum mp_rate_status redis_check(struct mp_rate_store *store,
				       unsigned int user)
{
	char k[3][64];
	struct mp_rate_item it[3];

	snprintf(k[0], sizeof(k[0]), "submission/login/u%u@example.com", user);
	snprintf(k[1], sizeof(k[1]), "submission/ip/10.0.%u.%u", user >> 8, user & 0xff);
	snprintf(k[2], sizeof(k[2]), "submission/sender/u%u@example.com", user);
	for (int j = 0; j < 3; j++) {
		memset(&it[j], 0, sizeof(it[j]));
		it[j].key = k[j];
		it[j].rate.count = 1000000000;
		it[j].rate.window_secs = 3600;
		it[j].cost = 1;
	}
	return mp_rate_check_items(store, it, 3, mp_rate_clock_ms(), NULL);
}

static void *redis_loop(void *context)
{
	struct redis_run *run = context;

	for (unsigned int i = 0; i < REDIS_CHECKS; i++) {
		if (redis_check(run->store, (run->id * REDIS_CHECKS + i) % 5000) ==
		    MP_RATE_FAILED)
			run->failures++;
	}
	return NULL;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_double);
	return v[n / 2];
}

static int bench_redis(const char *spec)
{
	struct mp_rate_redis_settings set;
	struct mp_rate_store *store;
	struct redis_run runs[REDIS_THREADS];
	pthread_t th[REDIS_THREADS];
	char host[128];
	const char *colon = strrchr(spec, ':'), *error;
	struct timeval tv = { 2, 0 };
	redisContext *c;
	uint64_t failures = 0;
	static double ping[LATENCY_SAMPLES], check[LATENCY_SAMPLES];
	double t, ping_us, check_us;
	unsigned int port;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		return 1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = (unsigned int)strtoul(colon + 1, NULL, 10);
	memset(&set, 0, sizeof(set));
	set.host = host;
	set.port = (uint16_t)port;
	set.timeout_ms = 2000;
	if (mp_rate_store_redis_create(NULL, &set, &store, &error) < 0) {
		fprintf(stderr, "redis: %s\n", error);
		return 1;
	}
	/* one thread: the latency of a check and of a bare PING */
	c = redisConnectWithTimeout(host, (int)port, tv);
	if (c == NULL || c->err != 0) {
		fprintf(stderr, "redis: cannot connect to %s\n", spec);
		return 1;
	}
	/* one PING and one check in turn, each timed, so that both see the
	   same load; medians, so that a moment of someone else's work does
	   not count */
	for (unsigned int i = 0; i < LATENCY_SAMPLES; i++) {
		t = now_seconds();
		freeReplyObject(redisCommand(c, "PING"));
		ping[i] = (now_seconds() - t) * 1e6;
		t = now_seconds();
		if (redis_check(store, 5000 + i % 5000) == MP_RATE_FAILED)
			failures++;
		check[i] = (now_seconds() - t) * 1e6;
	}
	redisFree(c);
	ping_us = median(ping, LATENCY_SAMPLES);
	check_us = median(check, LATENCY_SAMPLES);
	printf("redis, 3 keys per check, 1 thread:  %8.1f us per check "
	       "(median), PING %6.1f us: a check adds %.1f us over a bare "
	       "round trip\n", check_us, ping_us, check_us - ping_us);
	t = now_seconds();
	for (unsigned int i = 0; i < REDIS_THREADS; i++) {
		runs[i].store = store;
		runs[i].id = i;
		runs[i].failures = 0;
		pthread_create(&th[i], NULL, redis_loop, &runs[i]);
	}
	for (unsigned int i = 0; i < REDIS_THREADS; i++) {
		pthread_join(th[i], NULL);
		failures += runs[i].failures;
	}
	t = now_seconds() - t;
	printf("redis, 3 keys per check, %d threads: %8.0f checks/s "
	       "(%u failed)\n", REDIS_THREADS,
	       REDIS_THREADS * REDIS_CHECKS / t, (unsigned int)failures);
	mp_rate_store_free(&store);
	return failures == 0 ? 0 : 1;
}

int main(void)
{
	struct mp_rate_store *store;
	const char *error;

	/* make bench-milter asks for the Redis part alone */
	if (getenv("MP_BENCH_REDIS") != NULL &&
	    getenv("MP_BENCH_REDIS_ONLY") != NULL)
		return bench_redis(getenv("MP_BENCH_REDIS"));

	keys = calloc(2 * MANY_KEYS, KEY_SIZE);
	lines = calloc(2 * MANY_KEYS, LINE_SIZE);
	if (keys == NULL || lines == NULL)
		return 1;
	/* realistic key shapes: namespaced client IPs */
	for (unsigned int i = 0; i < 2 * MANY_KEYS; i++)
		snprintf(keys[i], KEY_SIZE, "submission/client_ip/10.%u.%u.%u",
			 i >> 16, (i >> 8) & 0xff, i & 0xff);
	if (mp_rate_store_memory_create(NULL, 0, &store, &error) < 0) {
		fprintf(stderr, "create: %s\n", error);
		return 1;
	}
	/* fill first, so the runs measure lookups, not inserts */
	(void)measure(LOOP_CHECK, store, 1, 0, 0, 2 * MANY_KEYS);

	scenario(store, "1 key, 1 thread:", 1, 0, 1);
	scenario(store, "10k keys, 1 thread:", 1, 0, MANY_KEYS / 10);
	scenario(store, "100k keys, 1 thread:", 1, 0, MANY_KEYS);
	scenario(store, "2x100k keys, 2 threads:", 2, MANY_KEYS, MANY_KEYS);
	scenario(store, "1 shared key, 2 threads:", 2, 0, 1);

	mp_rate_store_free(&store);
	free(lines);
	free(keys);
	if (getenv("MP_BENCH_REDIS") != NULL)
		return bench_redis(getenv("MP_BENCH_REDIS"));
	return 0;
}

/* test-rate.c: the rate limiter (core/rate.c) and the memory store
 * (core/rate-memory.c, core/rate-hash.c).
 *
 * The arithmetic is driven by a table of window states: each row is a
 * state before, one event, and the answer and state after.  The store
 * tests use fixed clocks, so nothing here depends on how fast the
 * machine is; the thread tests check totals, not timings. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/rate.h"
#include "policy-test.h"
#include "../../core/rate-private.h"
#include "../../core/siphash.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define SEC 1000ULL
#define H (3600ULL * SEC)
#define D (24ULL * H)
#define WK (7ULL * D)
/* a realistic epoch time in ms, and the 1-hour window holding it */
#define NOW 1700000000000ULL
#define NOW_H (NOW - NOW % H)

/* ---- arithmetic ---- */

struct window_case {
	const char *name;
	struct mp_rate_window before;	/* start, window, prev, cur */
	uint64_t limit, window_ms, now_ms;
	enum mp_rate_status status;
	uint64_t count, retry_after_ms;
	struct mp_rate_window after;
};

static const struct window_case window_cases[] = {
	{ "new key starts an aligned window",
	  { 0, 0, 0, 0 }, 10, H, 5 * H + 1000,
	  MP_RATE_ALLOWED, 1, 0, { 5 * H, H, 0, 1 } },
	{ "under the limit",
	  { 5 * H, H, 0, 8 }, 10, H, 5 * H + 10,
	  MP_RATE_ALLOWED, 9, 0, { 5 * H, H, 0, 9 } },
	{ "the limit-th event is allowed",
	  { 5 * H, H, 0, 9 }, 10, H, 5 * H + 10,
	  MP_RATE_ALLOWED, 10, 0, { 5 * H, H, 0, 10 } },
	{ "over the limit: denied and not counted, retry just past the window",
	  { 5 * H, H, 0, 10 }, 10, H, 5 * H + 1000,
	  MP_RATE_LIMITED, 10, H + 1 - 1000, { 5 * H, H, 0, 10 } },
	{ "last millisecond of a full window",
	  { 5 * H, H, 0, 10 }, 10, H, 6 * H - 1,
	  MP_RATE_LIMITED, 10, 2, { 5 * H, H, 0, 10 } },
	{ "window boundary: the previous window weighs fully at elapsed 0",
	  { 5 * H, H, 0, 10 }, 10, H, 6 * H,
	  MP_RATE_LIMITED, 10, 1, { 6 * H, H, 10, 0 } },
	{ "one millisecond later it weighs 9.99...: allowed",
	  { 6 * H, H, 10, 0 }, 10, H, 6 * H + 1,
	  MP_RATE_ALLOWED, 10, 0, { 6 * H, H, 10, 1 } },
	{ "half way through, the previous window counts half",
	  { 6 * H, H, 10, 0 }, 10, H, 6 * H + H / 2,
	  MP_RATE_ALLOWED, 6, 0, { 6 * H, H, 10, 1 } },
	{ "weighted prev + cur at the limit: retry when the weight drops",
	  { 6 * H, H, 100, 50 }, 100, H, 6 * H + H / 4,
	  MP_RATE_LIMITED, 125, H / 4 + 1, { 6 * H, H, 100, 50 } },
	{ "next window: cur becomes prev",
	  { 5 * H, H, 7, 3 }, 10, H, 6 * H + H / 2,
	  MP_RATE_ALLOWED, 2, 0, { 6 * H, H, 3, 1 } },
	{ "two windows later: both counts are gone",
	  { 5 * H, H, 10, 10 }, 10, H, 7 * H + 5,
	  MP_RATE_ALLOWED, 1, 0, { 7 * H, H, 0, 1 } },
	{ "limit lowered by a reload: wait until the weight drops below it",
	  { 5 * H, H, 0, 50 }, 10, H, 5 * H + 1000,
	  MP_RATE_LIMITED, 50, H + 2880001 - 1000, { 5 * H, H, 0, 50 } },

	{ "limit 1: first event",
	  { 0, 0, 0, 0 }, 1, H, 5 * H + 100,
	  MP_RATE_ALLOWED, 1, 0, { 5 * H, H, 0, 1 } },
	{ "limit 1: second event in the window",
	  { 5 * H, H, 0, 1 }, 1, H, 5 * H + 200,
	  MP_RATE_LIMITED, 1, H + 1 - 200, { 5 * H, H, 0, 1 } },
	{ "limit 1: next window at elapsed 0",
	  { 5 * H, H, 0, 1 }, 1, H, 6 * H,
	  MP_RATE_LIMITED, 1, 1, { 6 * H, H, 1, 0 } },
	{ "limit 1: next window plus 1 ms",
	  { 6 * H, H, 1, 0 }, 1, H, 6 * H + 1,
	  MP_RATE_ALLOWED, 1, 0, { 6 * H, H, 1, 1 } },

	{ "clock backwards: counts at the window start, retry on the caller's clock",
	  { 6 * H, H, 10, 0 }, 10, H, 6 * H - 5000,
	  MP_RATE_LIMITED, 10, 5001, { 6 * H, H, 10, 0 } },
	{ "clock far backwards: still the current window",
	  { 6 * H, H, 0, 3 }, 10, H, 0,
	  MP_RATE_ALLOWED, 4, 0, { 6 * H, H, 0, 4 } },

	{ "1w window with counts whose products pass 64 bits",
	  { NOW - 512000000, WK, 1000000000000ULL, 0 }, 1000000000000ULL, WK,
	  NOW, MP_RATE_ALLOWED, 153439153440ULL, 0,
	  { NOW - 512000000, WK, 1000000000000ULL, 1 } },
	{ "1w window, limited, retry from a 128-bit quotient",
	  { NOW - 512000000, WK, 1000000000000ULL, 847560846561ULL },
	  1000000000000ULL, WK, NOW,
	  MP_RATE_LIMITED, 1001000000000ULL, 604801,
	  { NOW - 512000000, WK, 1000000000000ULL, 847560846561ULL } },
	{ "limit UINT64_MAX: the last count fits",
	  { 5 * H, H, 0, UINT64_MAX - 1 }, UINT64_MAX, H, 5 * H + 1,
	  MP_RATE_ALLOWED, UINT64_MAX, 0, { 5 * H, H, 0, UINT64_MAX } },
	{ "limit UINT64_MAX reached",
	  { 5 * H, H, 0, UINT64_MAX }, UINT64_MAX, H, 5 * H + 1,
	  MP_RATE_LIMITED, UINT64_MAX, H, { 5 * H, H, 0, UINT64_MAX } },
	{ "prev + cur past UINT64_MAX saturate",
	  { 5 * H, H, UINT64_MAX, UINT64_MAX - 2 }, UINT64_MAX, H,
	  5 * H + H / 2,
	  MP_RATE_LIMITED, UINT64_MAX, H / 2,
	  { 5 * H, H, UINT64_MAX, UINT64_MAX - 2 } },
	{ "a window of UINT64_MAX ms (saturated) starts at 0",
	  { 0, 0, 0, 0 }, 5, UINT64_MAX, NOW,
	  MP_RATE_ALLOWED, 1, 0, { 0, UINT64_MAX, 0, 1 } },
	{ "a full window of UINT64_MAX ms: retry saturates",
	  { 0, UINT64_MAX, 0, 5 }, 5, UINT64_MAX, NOW,
	  MP_RATE_LIMITED, 5, UINT64_MAX - NOW, { 0, UINT64_MAX, 0, 5 } },

	{ "window grew (1h -> 1d): the estimate carries over whole",
	  { 5 * H, H, 10, 4 }, 100, D, 5 * H + H / 2,
	  MP_RATE_ALLOWED, 10, 0, { 0, D, 0, 10 } },
	{ "window shrank (1d -> 1h): the estimate scales down, rounded up",
	  { 0, D, 0, 241 }, 100, H, 12 * H,
	  MP_RATE_ALLOWED, 12, 0, { 12 * H, H, 0, 12 } },
	{ "window changed on an expired key: a fresh start",
	  { 0, H, 50, 50 }, 10, D, 3 * H,
	  MP_RATE_ALLOWED, 1, 0, { 0, D, 0, 1 } },
	{ "window shrank with the carried count over the new limit",
	  { 0, D, 0, 2400 }, 10, H, 12 * H,
	  MP_RATE_LIMITED, 100, 2 * H + 1 - H * 10 / 100,
	  { 12 * H, H, 0, 100 } },
};

static void test_window_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(window_cases); i++) {
		const struct window_case *c = &window_cases[i];
		struct mp_rate_window w = c->before;
		struct mp_rate_result result = { 99, 99 };
		enum mp_rate_status status;

		status = mp_rate_window_apply(&w, c->limit, c->window_ms, 1,
					      c->now_ms, &result);
		if (status != c->status)
			fail_msg("\"%s\": status %d, expected %d", c->name,
				 status, c->status);
		if (result.count != c->count ||
		    result.retry_after_ms != c->retry_after_ms)
			fail_msg("\"%s\": count %ju retry %ju, expected %ju, %ju",
				 c->name, (uintmax_t)result.count,
				 (uintmax_t)result.retry_after_ms,
				 (uintmax_t)c->count,
				 (uintmax_t)c->retry_after_ms);
		if (memcmp(&w, &c->after, sizeof(w)) != 0)
			fail_msg("\"%s\": after {%ju, %ju, %ju, %ju}, expected "
				 "{%ju, %ju, %ju, %ju}", c->name,
				 (uintmax_t)w.start_ms, (uintmax_t)w.window_ms,
				 (uintmax_t)w.prev, (uintmax_t)w.cur,
				 (uintmax_t)c->after.start_ms,
				 (uintmax_t)c->after.window_ms,
				 (uintmax_t)c->after.prev,
				 (uintmax_t)c->after.cur);
	}
}

/* retry_after_ms is exact: denied one ms earlier, allowed at it. */
static void test_window_retry_is_exact(void **state)
{
	static const uint64_t limits[] = { 1, 2, 3, 7, 10, 200, 1000 };
	static const uint64_t windows[] = { 1000, 60 * SEC, H, D + 7 };
	unsigned int tried = 0;

	(void)state;
	for (size_t l = 0; l < N_ELEMENTS(limits); l++)
	for (size_t wi = 0; wi < N_ELEMENTS(windows); wi++)
	for (uint64_t step = 0; step < 40; step++) {
		uint64_t W = windows[wi], limit = limits[l];
		/* a state with prev and cur spread around the limit */
		struct mp_rate_window w = {
			10 * W, W, limit + step % 5, step * limit / 40
		};
		uint64_t now = 10 * W + step * W / 40;
		struct mp_rate_result r;
		struct mp_rate_window probe;
		uint64_t retry;

		if (mp_rate_window_apply(&w, limit, W, 1, now, &r) !=
		    MP_RATE_LIMITED)
			continue;
		assert_true(r.retry_after_ms > 0);
		retry = r.retry_after_ms;
		probe = w;
		assert_int_equal(mp_rate_window_apply(&probe, limit, W, 1,
			now + retry - 1, &r), MP_RATE_LIMITED);
		probe = w;
		assert_int_equal(mp_rate_window_apply(&probe, limit, W, 1,
			now + retry, &r), MP_RATE_ALLOWED);
		tried++;
	}
	/* the states above do reach both branches of the retry rule */
	assert_true(tried > 100);
}

/* Driving a key event by event never admits more than the limit in a
   fixed window, and after a burst the next window is smooth. */
static void test_window_never_over_admits_in_a_window(void **state)
{
	struct mp_rate_window w = { 0, 0, 0, 0 };
	struct mp_rate_result r;
	uint64_t allowed_in[4] = { 0 };

	(void)state;
	/* one attempt every 100 ms for four 1-minute windows, 10/1m */
	for (uint64_t t = 60 * SEC; t < 5 * 60 * SEC; t += 100) {
		if (mp_rate_window_apply(&w, 10, 60 * SEC, 1, t, &r) ==
		    MP_RATE_ALLOWED)
			allowed_in[t / (60 * SEC) - 1]++;
	}
	for (size_t i = 0; i < 4; i++)
		assert_true(allowed_in[i] <= 10);
	assert_int_equal(allowed_in[0], 10);
}

struct expired_case {
	struct mp_rate_window w;
	uint64_t now_ms;
	bool expired;
};

static void test_window_expired(void **state)
{
	static const struct expired_case cases[] = {
		{ { 0, 0, 0, 0 }, 0, true },
		{ { 5 * H, H, 1, 1 }, 5 * H, false },
		{ { 5 * H, H, 1, 1 }, 7 * H - 1, false },
		{ { 5 * H, H, 1, 1 }, 7 * H, true },
		{ { 5 * H, H, 1, 1 }, 0, false },
		{ { 5 * H, H, 1, 1 }, UINT64_MAX, true },
		{ { 0, UINT64_MAX, 0, 1 }, UINT64_MAX, false },
		{ { 0, UINT64_MAX / 2, 0, 1 }, UINT64_MAX - 1, true },
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		if (mp_rate_window_expired(&cases[i].w, cases[i].now_ms) !=
		    cases[i].expired)
			fail_msg("expired case %zu", i);
	}
}

static void test_window_ms(void **state)
{
	struct mp_rate_spec r = { 1, 3600 };

	(void)state;
	assert_int_equal(mp_rate_window_ms(&r), H);
	r.window_secs = UINT64_MAX / 1000;
	assert_int_equal(mp_rate_window_ms(&r), UINT64_MAX / 1000 * 1000);
	r.window_secs = UINT64_MAX / 1000 + 1;
	assert_int_equal(mp_rate_window_ms(&r), UINT64_MAX);
}

/* ---- SipHash ---- */

static void test_siphash_vectors(void **state)
{
	/* the paper's key 00..0f and messages 00, 01, ... (len bytes);
	   2-4 from the reference vectors, 1-3 cross-checked with an
	   independent implementation */
	static const uint64_t key[2] = {
		UINT64_C(0x0706050403020100), UINT64_C(0x0f0e0d0c0b0a0908)
	};
	static const struct {
		size_t len;
		uint64_t sip24, sip13;
	} vectors[] = {
		{ 0, UINT64_C(0x726fdb47dd0e0e31), UINT64_C(0xabac0158050fc4dc) },
		{ 1, UINT64_C(0x74f839c593dc67fd), UINT64_C(0xc9f49bf37d57ca93) },
		{ 7, UINT64_C(0xab0200f58b01d137), UINT64_C(0xd3927d989bb11140) },
		{ 8, UINT64_C(0x93f5f5799a932462), UINT64_C(0x369095118d299a8e) },
		{ 15, UINT64_C(0xa129ca6149be45e5), UINT64_C(0xd320d86d2a519956) },
		{ 63, UINT64_C(0x958a324ceb064572), UINT64_C(0x9d199062b7bbb3a8) },
	};
	unsigned char msg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	for (size_t i = 0; i < N_ELEMENTS(vectors); i++) {
		assert_int_equal(mp_siphash24(key, msg, vectors[i].len),
				 vectors[i].sip24);
		assert_int_equal(mp_siphash13(key, msg, vectors[i].len),
				 vectors[i].sip13);
	}
}

/* ---- a counting, optionally failing, env ---- */

struct test_env {
	struct mp_env env;
	pthread_mutex_t lock;
	size_t allocs, frees;
	long fail_after;	/* allocations left before they fail; -1 never */
	unsigned int warnings;
	char last_log[256];
};

static void *tenv_alloc(void *ctx, size_t size)
{
	struct test_env *t = ctx;
	void *p = NULL;

	pthread_mutex_lock(&t->lock);
	if (t->fail_after != 0) {
		if (t->fail_after > 0)
			t->fail_after--;
		p = calloc(1, size == 0 ? 1 : size);
		if (p != NULL)
			t->allocs++;
	}
	pthread_mutex_unlock(&t->lock);
	return p;
}

static void *tenv_realloc(void *ctx, void *ptr, size_t old_size,
			  size_t new_size)
{
	struct test_env *t = ctx;
	void *p = NULL;

	(void)old_size;
	pthread_mutex_lock(&t->lock);
	if (t->fail_after != 0) {
		if (t->fail_after > 0)
			t->fail_after--;
		p = realloc(ptr, new_size == 0 ? 1 : new_size);
	}
	pthread_mutex_unlock(&t->lock);
	return p;
}

static void tenv_free(void *ctx, void *ptr)
{
	struct test_env *t = ctx;

	if (ptr == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->frees++;
	pthread_mutex_unlock(&t->lock);
	free(ptr);
}

static void tenv_log(void *ctx, enum mp_log_level level, const char *message)
{
	struct test_env *t = ctx;

	pthread_mutex_lock(&t->lock);
	if (level == MP_LOG_WARNING)
		t->warnings++;
	snprintf(t->last_log, sizeof(t->last_log), "%s", message);
	pthread_mutex_unlock(&t->lock);
}

static void test_env_init(struct test_env *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->fail_after = -1;
	t->env.alloc = tenv_alloc;
	t->env.realloc = tenv_realloc;
	t->env.free = tenv_free;
	t->env.log = tenv_log;
	t->env.ctx = t;
}

static void test_env_deinit(struct test_env *t)
{
	assert_int_equal(t->allocs, t->frees);
	pthread_mutex_destroy(&t->lock);
}

/* ---- the memory store ---- */

/* The default env without its logger, for stores the tests fill on
   purpose (their eviction warnings are expected). */
static const struct mp_env *quiet_env(void)
{
	static struct mp_env env;

	env = *mp_env_default();
	env.log = NULL;
	return &env;
}

static struct mp_rate_store *store_new(const struct mp_env *env,
				       size_t max_keys)
{
	struct mp_rate_store *store = NULL;
	const char *error = NULL;

	if (mp_rate_store_memory_create(env, max_keys, &store, &error) < 0)
		fail_msg("create: %s", error);
	return store;
}

static enum mp_rate_status check(struct mp_rate_store *store, const char *key,
				 uint64_t count, uint64_t window_secs,
				 uint64_t now, struct mp_rate_result *r)
{
	struct mp_rate_spec rate = { count, window_secs };
	const char *error = NULL;
	enum mp_rate_status status;

	status = mp_rate_check(store, key, &rate, now, r, &error);
	if (status == MP_RATE_FAILED)
		assert_non_null(error);
	return status;
}

static void test_store_allow_then_deny(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_result r;
	uint64_t t = NOW_H + 100;

	(void)state;
	assert_string_equal(mp_rate_store_name(store), "memory");
	for (uint64_t i = 1; i <= 5; i++) {
		assert_int_equal(check(store, "a", 5, 3600, t, &r),
				 MP_RATE_ALLOWED);
		assert_int_equal(r.count, i);
		assert_int_equal(r.retry_after_ms, 0);
	}
	assert_int_equal(check(store, "a", 5, 3600, t, &r), MP_RATE_LIMITED);
	assert_int_equal(r.count, 5);
	/* allowed again 1 ms into the next window, where the 5 weigh 4.99 */
	assert_int_equal(r.retry_after_ms, H + 1 - 100);
	assert_int_equal(check(store, "a", 5, 3600, t + r.retry_after_ms - 1,
			       &r), MP_RATE_LIMITED);
	assert_int_equal(check(store, "a", 5, 3600, NOW_H + H + 1, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 5);
	/* an independent key */
	assert_int_equal(check(store, "b", 5, 3600, t, &r), MP_RATE_ALLOWED);
	assert_int_equal(r.count, 1);
	/* a whole window later "a" is back to zero */
	assert_int_equal(check(store, "a", 5, 3600, NOW_H + 3 * H, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 1);
	/* result_r may be NULL */
	assert_int_equal(check(store, "c", 5, 3600, t, NULL), MP_RATE_ALLOWED);
	assert_int_equal(mp_rate_store_memory_count(store), 3);
	mp_rate_store_free(&store);
	assert_null(store);
	mp_rate_store_free(&store);
}

static void test_store_keys_are_bytes(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_result r;

	(void)state;
	/* prefixes and near-equal keys are distinct keys */
	assert_int_equal(check(store, "login/al", 1, 60, NOW, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(check(store, "login/ali", 1, 60, NOW, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(check(store, "login/alI", 1, 60, NOW, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(check(store, "", 1, 60, NOW, &r), MP_RATE_ALLOWED);
	assert_int_equal(check(store, "", 1, 60, NOW, &r), MP_RATE_LIMITED);
	assert_int_equal(check(store, "login/ali", 1, 60, NOW, &r),
			 MP_RATE_LIMITED);
	mp_rate_store_free(&store);
}

static void test_store_key_length(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_spec rate = { 1, 60 };
	struct mp_rate_result r;
	char key[MP_RATE_MAX_KEY_LEN + 2];
	const char *error = NULL;

	(void)state;
	memset(key, 'k', MP_RATE_MAX_KEY_LEN);
	key[MP_RATE_MAX_KEY_LEN] = '\0';
	assert_int_equal(mp_rate_check(store, key, &rate, NOW, &r, &error),
			 MP_RATE_ALLOWED);
	key[MP_RATE_MAX_KEY_LEN] = 'k';
	key[MP_RATE_MAX_KEY_LEN + 1] = '\0';
	assert_int_equal(mp_rate_check(store, key, &rate, NOW, &r, &error),
			 MP_RATE_FAILED);
	assert_non_null(strstr(error, "too long"));
	assert_non_null(strstr(error, "512"));
	assert_int_equal(mp_rate_store_memory_count(store), 1);
	mp_rate_store_free(&store);
}

static void test_store_bad_arguments(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_spec no_window = { 5, 0 }, rate = { 5, 60 };
	const char *error = NULL;

	(void)state;
	assert_int_equal(mp_rate_check(store, "k", &no_window, NOW, NULL,
				       &error), MP_RATE_FAILED);
	assert_non_null(strstr(error, "zero window"));
	error = NULL;
	assert_int_equal(mp_rate_check(store, "k", NULL, NOW, NULL, &error),
			 MP_RATE_FAILED);
	assert_non_null(error);
	error = NULL;
	assert_int_equal(mp_rate_check(store, NULL, &rate, NOW, NULL, &error),
			 MP_RATE_FAILED);
	assert_non_null(error);
	error = NULL;
	assert_int_equal(mp_rate_check(NULL, "k", &rate, NOW, NULL, &error),
			 MP_RATE_FAILED);
	assert_non_null(error);
	mp_rate_store_free(&store);
}

static void test_store_count_zero_always_allows(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_result r;
	char key[MP_RATE_MAX_KEY_LEN + 10];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(check(store, "k", 0, 60, NOW, &r),
				 MP_RATE_ALLOWED);
		assert_int_equal(r.count, 0);
		assert_int_equal(r.retry_after_ms, 0);
	}
	/* no limit: nothing to key, nothing stored */
	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(check(store, key, 0, 0, NOW, &r), MP_RATE_ALLOWED);
	assert_int_equal(mp_rate_check(NULL, NULL,
				       &(struct mp_rate_spec){ 0, 0 }, NOW,
				       NULL, NULL), MP_RATE_ALLOWED);
	assert_int_equal(mp_rate_store_memory_count(store), 0);
	mp_rate_store_free(&store);
}

static void test_store_clock_backwards(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_result r;
	uint64_t t = NOW_H + H / 2;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(check(store, "k", 3, 3600, t, &r),
				 MP_RATE_ALLOWED);
	/* an hour and more back: still counted against the current window */
	assert_int_equal(check(store, "k", 3, 3600, t - 2 * H, &r),
			 MP_RATE_LIMITED);
	assert_int_equal(r.count, 3);
	/* the rest of this window, and the 1.5h the caller's clock is behind */
	assert_int_equal(r.retry_after_ms, H + 1 + (H + H / 2));
	assert_int_equal(check(store, "k", 3, 3600, 0, &r), MP_RATE_LIMITED);
	assert_int_equal(check(store, "k", 3, 3600, t, &r), MP_RATE_LIMITED);
	mp_rate_store_free(&store);
}

static void test_store_window_change(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_result r;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(check(store, "k", 10, 3600, NOW, &r),
				 MP_RATE_ALLOWED);
	/* reloaded as 10/1d: the 5 still count */
	assert_int_equal(check(store, "k", 10, 86400, NOW + 1, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 6);
	/* and back to 10/1h: 6 spread over a day scale to 1 in an hour */
	assert_int_equal(check(store, "k", 10, 3600, NOW + 2, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 2);
	mp_rate_store_free(&store);
}

static void test_store_evicts_expired_first(void **state)
{
	struct test_env env;
	struct mp_rate_store *store;
	struct mp_rate_result r;
	char key[32];

	(void)state;
	test_env_init(&env);
	store = store_new(&env.env, 16);
	/* 8 keys with 1s windows, 8 with 1h windows counted 3 times */
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "short/%d", i);
		assert_int_equal(check(store, key, 10, 1, NOW, &r),
				 MP_RATE_ALLOWED);
		snprintf(key, sizeof(key), "long/%d", i);
		for (int j = 0; j < 3; j++)
			assert_int_equal(check(store, key, 10, 3600, NOW, &r),
					 MP_RATE_ALLOWED);
	}
	assert_int_equal(mp_rate_store_memory_count(store), 16);
	/* 3s later the short ones have expired; the long ones, less
	   recently used than some short ones, must survive */
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "new/%d", i);
		assert_int_equal(check(store, key, 10, 3600, NOW + 3000, &r),
				 MP_RATE_ALLOWED);
		assert_int_equal(r.count, 1);
	}
	assert_int_equal(mp_rate_store_memory_count(store), 16);
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "long/%d", i);
		assert_int_equal(check(store, key, 10, 3600, NOW + 3000, &r),
				 MP_RATE_ALLOWED);
		assert_int_equal(r.count, 4);
	}
	/* forgetting expired keys loses nothing: no warning */
	assert_int_equal(env.warnings, 0);
	mp_rate_store_free(&store);
	test_env_deinit(&env);
}

static void test_store_evicts_least_recently_used(void **state)
{
	struct test_env env;
	struct mp_rate_store *store;
	struct mp_rate_result r;
	char key[32];

	(void)state;
	test_env_init(&env);
	store = store_new(&env.env, 16);
	for (int i = 0; i < 16; i++) {
		snprintf(key, sizeof(key), "k/%d", i);
		assert_int_equal(check(store, key, 10, 3600, NOW, &r),
				 MP_RATE_ALLOWED);
	}
	/* use the first half again, in reverse order */
	for (int i = 7; i >= 0; i--) {
		snprintf(key, sizeof(key), "k/%d", i);
		assert_int_equal(check(store, key, 10, 3600, NOW, &r),
				 MP_RATE_ALLOWED);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "new/%d", i);
		assert_int_equal(check(store, key, 10, 3600, NOW + 1, &r),
				 MP_RATE_ALLOWED);
	}
	assert_int_equal(mp_rate_store_memory_count(store), 16);
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "k/%d", i);
		assert_int_equal(check(store, key, 10, 3600, NOW + 2, &r),
				 MP_RATE_ALLOWED);
		assert_int_equal(r.count, 3);
	}
	/* k/8 was forgotten: it starts from zero (fail open) */
	assert_int_equal(check(store, "k/8", 10, 3600, NOW + 2, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 1);
	/* nine live evictions within a minute: logged once */
	assert_int_equal(env.warnings, 1);
	assert_non_null(strstr(env.last_log, "fail open"));
	assert_int_equal(check(store, "later", 10, 3600, NOW + 61 * SEC, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(env.warnings, 2);
	mp_rate_store_free(&store);
	test_env_deinit(&env);
}

/* With several shards the bound still holds over many distinct keys. */
static void test_store_bounded(void **state)
{
	struct test_env env;
	struct mp_rate_store *store;
	struct mp_rate_result r;
	char key[32];

	(void)state;
	test_env_init(&env);
	store = store_new(&env.env, 1000);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "client/%d", i);
		assert_int_equal(check(store, key, 10, 3600, NOW + i, &r),
				 MP_RATE_ALLOWED);
		assert_int_equal(r.count, 1);
		if (i % 1000 == 999)
			assert_true(mp_rate_store_memory_count(store) <= 1000);
	}
	assert_int_equal(mp_rate_store_memory_count(store), 1000);
	/* the most recent keys are the ones kept */
	assert_int_equal(check(store, "client/19999", 10, 3600, NOW + 20000,
			       &r), MP_RATE_ALLOWED);
	assert_int_equal(r.count, 2);
	mp_rate_store_free(&store);
	test_env_deinit(&env);
}

/* 400 checks of distinct keys, short (kept inside the entries) and
   long (allocated apart); returns how many failed. */
static unsigned int fill_keys(struct mp_rate_store *store)
{
	struct mp_rate_result r;
	unsigned int failed = 0;
	char key[128];

	for (int i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), i % 2 == 0 ? "k/%d" :
			 "a-key-too-long-to-be-kept-inside-its-entry/"
			 "0123456789012345678901234567890123456789/%d", i);
		if (check(store, key, 10, 60, NOW, &r) == MP_RATE_FAILED)
			failed++;
		else
			assert_int_equal(r.count, 1);
	}
	return failed;
}

/* Every allocation goes through the env and comes back; a failing one
   fails the operation cleanly, never the process, whichever it is. */
static void test_store_out_of_memory(void **state)
{
	struct test_env env;
	struct mp_rate_store *store = NULL;
	const char *error = NULL;
	size_t needed;

	(void)state;
	/* how many allocations the whole run makes */
	test_env_init(&env);
	assert_int_equal(mp_rate_store_memory_create(&env.env, 300, &store,
						     &error), 0);
	assert_int_equal(fill_keys(store), 0);
	mp_rate_store_free(&store);
	needed = env.allocs;
	test_env_deinit(&env);
	assert_true(needed > 200);

	for (size_t fail_after = 0; fail_after < needed; fail_after++) {
		test_env_init(&env);
		env.fail_after = (long)fail_after;
		store = NULL;
		error = NULL;
		if (mp_rate_store_memory_create(&env.env, 300, &store,
						&error) < 0) {
			assert_non_null(strstr(error, "out of memory"));
			assert_null(store);
			test_env_deinit(&env);
			continue;
		}
		assert_true(fill_keys(store) > 0);
		assert_true(mp_rate_store_memory_count(store) <= 300);
		mp_rate_store_free(&store);
		test_env_deinit(&env);
	}
}

static void test_store_create_errors(void **state)
{
	struct mp_rate_store *store = NULL;
	const char *error = NULL;

	(void)state;
	if (sizeof(size_t) > 4) {
		assert_int_equal(mp_rate_store_memory_create(NULL, SIZE_MAX,
							     &store, &error),
				 -1);
		assert_non_null(strstr(error, "too large"));
		assert_null(store);
	}
	assert_int_equal(mp_rate_store_memory_create(quiet_env(), 1, &store,
						     &error), 0);
	assert_int_equal(check(store, "a", 5, 60, NOW, NULL), MP_RATE_ALLOWED);
	assert_int_equal(check(store, "b", 5, 60, NOW, NULL), MP_RATE_ALLOWED);
	assert_int_equal(mp_rate_store_memory_count(store), 1);
	mp_rate_store_free(&store);
}

/* ---- threads ---- */

#define THREADS 8
#define HOT_ATTEMPTS 500	/* per thread: 4000 attempts on a 1000 limit */
#define MANY_KEYS 500
#define MANY_ROUNDS 10

struct thread_arg {
	struct mp_rate_store *store;
	unsigned int id;
	unsigned int keys;	/* for many_keys_thread */
	uint64_t allowed, failed;
	uint64_t counts[HOT_ATTEMPTS];	/* result counts when allowed */
};

static void *hot_key_thread(void *context)
{
	struct thread_arg *arg = context;
	struct mp_rate_spec rate = { 1000, 3600 };
	struct mp_rate_result r;
	const char *error;

	for (unsigned int i = 0; i < HOT_ATTEMPTS; i++) {
		switch (mp_rate_check(arg->store, "hot", &rate, NOW, &r,
				      &error)) {
		case MP_RATE_ALLOWED:
			arg->counts[arg->allowed++] = r.count;
			break;
		case MP_RATE_LIMITED:
			break;
		case MP_RATE_FAILED:
			arg->failed++;
			break;
		}
	}
	return NULL;
}

static void *many_keys_thread(void *context)
{
	struct thread_arg *arg = context;
	struct mp_rate_spec rate = { 1000, 3600 };
	const char *error;
	char key[32];

	for (unsigned int round = 0; round < MANY_ROUNDS; round++) {
		for (unsigned int k = 0; k < arg->keys; k++) {
			/* each thread walks the keys from its own offset */
			snprintf(key, sizeof(key), "many/%u",
				 (k + arg->id * 61) % arg->keys);
			switch (mp_rate_check(arg->store, key, &rate,
					      NOW + round, NULL, &error)) {
			case MP_RATE_ALLOWED:
				arg->allowed++;
				break;
			case MP_RATE_LIMITED:
				break;
			case MP_RATE_FAILED:
				arg->failed++;
				break;
			}
		}
	}
	return NULL;
}

static void run_threads(struct mp_rate_store *store, void *(*fn)(void *),
			struct thread_arg *args, unsigned int keys)
{
	pthread_t threads[THREADS];

	for (unsigned int i = 0; i < THREADS; i++) {
		args[i].store = store;
		args[i].id = i;
		args[i].keys = keys;
		assert_int_equal(pthread_create(&threads[i], NULL, fn,
						&args[i]), 0);
	}
	for (unsigned int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
}

static void test_threads_hot_key(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct thread_arg *args = calloc(THREADS, sizeof(*args));
	bool seen[1001] = { false };
	uint64_t allowed = 0;
	struct mp_rate_result r;

	(void)state;
	assert_non_null(args);
	run_threads(store, hot_key_thread, args, 0);
	for (unsigned int i = 0; i < THREADS; i++) {
		assert_int_equal(args[i].failed, 0);
		allowed += args[i].allowed;
		/* every admitted event saw its own count: the counts
		   1..1000 each exactly once, so no two checks interleaved */
		for (uint64_t j = 0; j < args[i].allowed; j++) {
			uint64_t c = args[i].counts[j];

			assert_true(c >= 1 && c <= 1000);
			assert_false(seen[c]);
			seen[c] = true;
		}
	}
	assert_int_equal(allowed, 1000);
	assert_int_equal(check(store, "hot", 1000, 3600, NOW, &r),
			 MP_RATE_LIMITED);
	assert_int_equal(r.count, 1000);
	free(args);
	mp_rate_store_free(&store);
}

static void test_threads_many_keys(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct thread_arg *args = calloc(THREADS, sizeof(*args));
	uint64_t allowed = 0;
	struct mp_rate_result r;
	char key[32];

	(void)state;
	assert_non_null(args);
	run_threads(store, many_keys_thread, args, MANY_KEYS);
	for (unsigned int i = 0; i < THREADS; i++) {
		assert_int_equal(args[i].failed, 0);
		allowed += args[i].allowed;
	}
	assert_int_equal(allowed, THREADS * MANY_ROUNDS * MANY_KEYS);
	assert_int_equal(mp_rate_store_memory_count(store), MANY_KEYS);
	/* no lost update on any key */
	for (unsigned int k = 0; k < MANY_KEYS; k++) {
		snprintf(key, sizeof(key), "many/%u", k);
		assert_int_equal(check(store, key, 1000, 3600, NOW + 100, &r),
				 MP_RATE_ALLOWED);
		assert_int_equal(r.count, THREADS * MANY_ROUNDS + 1);
	}
	free(args);
	mp_rate_store_free(&store);
}

/* Threads on stores far smaller than their keys: eviction under
   contention keeps the bound and the tables consistent (one shard, then
   four). */
static void test_threads_under_eviction(void **state)
{
	static const struct {
		size_t max_keys;
		unsigned int keys;
	} runs[] = { { 300, MANY_KEYS }, { 1024, 5000 } };

	(void)state;
	for (size_t n = 0; n < N_ELEMENTS(runs); n++) {
		struct mp_rate_store *store =
			store_new(quiet_env(), runs[n].max_keys);
		struct thread_arg *args = calloc(THREADS, sizeof(*args));

		assert_non_null(args);
		run_threads(store, many_keys_thread, args, runs[n].keys);
		for (unsigned int i = 0; i < THREADS; i++)
			assert_int_equal(args[i].failed, 0);
		assert_int_equal(mp_rate_store_memory_count(store),
				 runs[n].max_keys);
		free(args);
		mp_rate_store_free(&store);
	}
}

static void test_clock(void **state)
{
	uint64_t a = mp_rate_clock_ms(), b = mp_rate_clock_ms();

	(void)state;
	/* after 2020-01-01, and not going backwards between two calls
	   (unless someone steps the clock right now) */
	assert_true(a > 1577836800000ULL);
	assert_true(b + 1000 >= a);
}


/* ---- costs and several keys in one check ---- */

static void test_window_cost(void **state)
{
	struct mp_rate_window w = { 0, 0, 0, 0 };
	struct mp_rate_result r;

	(void)state;
	/* 7 + 3 fits a limit of 10 exactly; 1 more does not */
	assert_int_equal(mp_rate_window_apply(&w, 10, H, 7, NOW, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 7);
	assert_int_equal(mp_rate_window_apply(&w, 10, H, 4, NOW, &r),
			 MP_RATE_LIMITED);
	assert_int_equal(r.count, 7);
	assert_int_equal(w.cur, 7);
	/* the retry is when 4 would fit: the next window, once the
	   weighted 7 drops below 10 - 4 + 1 = 7 */
	assert_true(r.retry_after_ms > 0 && r.retry_after_ms != UINT64_MAX);
	{
		struct mp_rate_window probe = w;
		struct mp_rate_result r2;

		assert_int_equal(mp_rate_window_apply(&probe, 10, H, 4,
			NOW + r.retry_after_ms - 1, &r2), MP_RATE_LIMITED);
		probe = w;
		assert_int_equal(mp_rate_window_apply(&probe, 10, H, 4,
			NOW + r.retry_after_ms, &r2), MP_RATE_ALLOWED);
	}
	assert_int_equal(mp_rate_window_apply(&w, 10, H, 3, NOW, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 10);
	/* cost 0 peeks: at the limit it is LIMITED, and counts nothing */
	assert_int_equal(mp_rate_window_apply(&w, 10, H, 0, NOW, &r),
			 MP_RATE_LIMITED);
	assert_int_equal(w.cur, 10);
	/* a cost above the limit never fits */
	w = (struct mp_rate_window){ 0, 0, 0, 0 };
	assert_int_equal(mp_rate_window_apply(&w, 10, H, 11, NOW, &r),
			 MP_RATE_LIMITED);
	assert_int_equal(r.retry_after_ms, UINT64_MAX);
	assert_int_equal(w.cur, 0);
	assert_int_equal(mp_rate_window_apply(&w, 10, H, 0, NOW, &r),
			 MP_RATE_ALLOWED);
	assert_int_equal(r.count, 0);
	assert_int_equal(w.cur, 0);
}

static void test_items_all_or_nothing(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_item it[3];
	const char *error = NULL;

	(void)state;
	/* login 5/h, ip 2/h, sender unlimited */
	for (int i = 0; i < 2; i++) {
		policy_test_rate_item(&it[0], "login/a", 5, 3600, 1);
		policy_test_rate_item(&it[1], "ip/1", 2, 3600, 1);
		policy_test_rate_item(&it[2], "sender/x", 0, 0, 1);
		assert_int_equal(mp_rate_check_items(store, it, 3, NOW, &error),
				 MP_RATE_ALLOWED);
		assert_int_equal(it[0].result.count, (uint64_t)i + 1);
		assert_int_equal(it[1].result.count, (uint64_t)i + 1);
		assert_int_equal(it[2].status, MP_RATE_ALLOWED);
		assert_int_equal(it[2].result.count, 0);
	}
	/* the ip is full: nothing counted, not even for the login */
	for (int i = 0; i < 3; i++) {
		policy_test_rate_item(&it[0], "login/a", 5, 3600, 1);
		policy_test_rate_item(&it[1], "ip/1", 2, 3600, 1);
		assert_int_equal(mp_rate_check_items(store, it, 2, NOW, &error),
				 MP_RATE_LIMITED);
		assert_int_equal(it[0].status, MP_RATE_ALLOWED);
		assert_int_equal(it[0].result.count, 2);
		assert_int_equal(it[1].status, MP_RATE_LIMITED);
		assert_true(it[1].result.retry_after_ms > 0);
	}
	/* the login alone still has its 3 left */
	for (int i = 0; i < 3; i++) {
		policy_test_rate_item(&it[0], "login/a", 5, 3600, 1);
		assert_int_equal(mp_rate_check_items(store, it, 1, NOW, &error),
				 MP_RATE_ALLOWED);
	}
	assert_int_equal(mp_rate_check_items(store, it, 1, NOW, &error),
			 MP_RATE_LIMITED);
	/* a limited key only creates nothing: 2 keys so far */
	assert_int_equal(mp_rate_store_memory_count(store), 2);
	policy_test_rate_item(&it[0], "new/limited", 1, 60, 2);
	assert_int_equal(mp_rate_check_items(store, it, 1, NOW, &error),
			 MP_RATE_LIMITED);
	assert_int_equal(mp_rate_store_memory_count(store), 2);
	/* no items, or only unlimited ones: allowed, no store needed */
	assert_int_equal(mp_rate_check_items(NULL, NULL, 0, NOW, &error),
			 MP_RATE_ALLOWED);
	policy_test_rate_item(&it[0], "x", 0, 0, 1);
	assert_int_equal(mp_rate_check_items(NULL, it, 1, NOW, &error),
			 MP_RATE_ALLOWED);
	mp_rate_store_free(&store);
}

static void test_items_errors(void **state)
{
	struct mp_rate_store *store = store_new(NULL, 0);
	struct mp_rate_item it[MP_RATE_MAX_ITEMS + 1];
	char keys[MP_RATE_MAX_ITEMS + 1][8];
	const char *error = NULL;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(it); i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		policy_test_rate_item(&it[i], keys[i], 10, 60, 1);
	}
	assert_int_equal(mp_rate_check_items(store, it, MP_RATE_MAX_ITEMS + 1,
					     NOW, &error), MP_RATE_FAILED);
	assert_non_null(strstr(error, "too many"));
	/* the limit itself is fine */
	assert_int_equal(mp_rate_check_items(store, it, MP_RATE_MAX_ITEMS,
					     NOW, &error), MP_RATE_ALLOWED);
	policy_test_rate_item(&it[1], "k0", 10, 60, 1);
	assert_int_equal(mp_rate_check_items(store, it, 2, NOW, &error),
			 MP_RATE_FAILED);
	assert_non_null(strstr(error, "same rate key"));
	assert_int_equal(it[1].status, MP_RATE_FAILED);
	policy_test_rate_item(&it[1], NULL, 10, 60, 1);
	assert_int_equal(mp_rate_check_items(store, it, 2, NOW, &error),
			 MP_RATE_FAILED);
	policy_test_rate_item(&it[1], "k1", 10, 0, 1);
	assert_int_equal(mp_rate_check_items(store, it, 2, NOW, &error),
			 MP_RATE_FAILED);
	assert_int_equal(mp_rate_check_items(NULL, it, 1, NOW, &error),
			 MP_RATE_FAILED);
	/* a failed call counted nothing: k0 has only the one from above */
	policy_test_rate_item(&it[0], "k0", 10, 60, 0);
	assert_int_equal(mp_rate_check_items(store, it, 1, NOW, &error),
			 MP_RATE_ALLOWED);
	assert_int_equal(it[0].result.count, 1);
	mp_rate_store_free(&store);
}

/* Threads check overlapping key sets ({a,b}, {b,c}, {c,a}, ...) whose
   shards they lock in different orders of appearance: no deadlock, and
   every key ends with exactly the limit counted. */
#define MULTI_THREADS 6
#define MULTI_LIMIT 3000

static void *multi_thread(void *arg)
{
	struct mp_rate_store *store = ((void **)arg)[0];
	unsigned int n = (unsigned int)(uintptr_t)((void **)arg)[1];
	static const char *const keys[] = { "ka", "kb", "kc" };
	struct mp_rate_item it[2];
	uintptr_t allowed = 0;

	for (unsigned int i = 0; i < 3000; i++) {
		policy_test_rate_item(&it[0], keys[(n + i) % 3], MULTI_LIMIT, 3600, 1);
		policy_test_rate_item(&it[1], keys[(n + i + 1) % 3], MULTI_LIMIT, 3600, 1);
		if (mp_rate_check_items(store, it, 2, NOW, NULL) ==
		    MP_RATE_ALLOWED)
			allowed++;
	}
	return (void *)allowed;
}

static void test_items_threads(void **state)
{
	/* many keys: several shards */
	struct mp_rate_store *store = store_new(NULL, 100000);
	pthread_t th[MULTI_THREADS];
	void *args[MULTI_THREADS][2];
	uintptr_t total = 0;
	uint64_t counted = 0;
	struct mp_rate_item it;

	(void)state;
	for (uintptr_t i = 0; i < MULTI_THREADS; i++) {
		args[i][0] = store;
		args[i][1] = (void *)i;
		assert_int_equal(pthread_create(&th[i], NULL, multi_thread,
						args[i]), 0);
	}
	for (int i = 0; i < MULTI_THREADS; i++) {
		void *ret;

		pthread_join(th[i], &ret);
		total += (uintptr_t)ret;
	}
	/* each allowed call counts 2 of the 3 keys' 3 * LIMIT */
	assert_true(total * 2 <= 3 * MULTI_LIMIT);
	/* every key is within its limit, and the counts are exactly the
	   allowed calls' (no lost update, nothing counted for a refusal) */
	for (int k = 0; k < 3; k++) {
		static const char *const keys[] = { "ka", "kb", "kc" };

		policy_test_rate_item(&it, keys[k], MULTI_LIMIT, 3600, 0);
		(void)mp_rate_check_items(store, &it, 1, NOW, NULL);
		assert_true(it.result.count <= MULTI_LIMIT);
		counted += it.result.count;
	}
	assert_int_equal(counted, total * 2);
	mp_rate_store_free(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_table),
		cmocka_unit_test(test_window_retry_is_exact),
		cmocka_unit_test(test_window_never_over_admits_in_a_window),
		cmocka_unit_test(test_window_expired),
		cmocka_unit_test(test_window_ms),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_store_allow_then_deny),
		cmocka_unit_test(test_window_cost),
		cmocka_unit_test(test_items_all_or_nothing),
		cmocka_unit_test(test_items_errors),
		cmocka_unit_test(test_items_threads),
		cmocka_unit_test(test_store_keys_are_bytes),
		cmocka_unit_test(test_store_key_length),
		cmocka_unit_test(test_store_bad_arguments),
		cmocka_unit_test(test_store_count_zero_always_allows),
		cmocka_unit_test(test_store_clock_backwards),
		cmocka_unit_test(test_store_window_change),
		cmocka_unit_test(test_store_evicts_expired_first),
		cmocka_unit_test(test_store_evicts_least_recently_used),
		cmocka_unit_test(test_store_bounded),
		cmocka_unit_test(test_store_out_of_memory),
		cmocka_unit_test(test_store_create_errors),
		cmocka_unit_test(test_threads_hot_key),
		cmocka_unit_test(test_threads_many_keys),
		cmocka_unit_test(test_threads_under_eviction),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

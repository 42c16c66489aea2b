/* test-retention.c: the decision logic of pop3_retention (core/retention.c):
 * what expires when, re-stamping lost times, the max_retained_size cap,
 * the EXPIRE capability and the --as-of times.  Table-driven: each row is
 * a policy, a message as the mailbox records it, the clock, and the
 * verdict it must give. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/retention.h"
#include "mailpolicy/units.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define HOUR 3600ULL
#define DAY (24 * HOUR)
#define NEVER MP_DURATION_NEVER
/* a retrieval at T0, the wall clock at NOW */
#define T0 1700000000ULL
#define NOW (T0 + 10 * DAY)

static struct mp_retention
policy(uint64_t keep, enum mp_dele_action on_dele, uint64_t defer)
{
	struct mp_retention r;

	memset(&r, 0, sizeof(r));
	r.keep_after_retrieval = keep;
	r.on_dele = on_dele;
	r.dele_defer_secs = defer;
	r.on_retrieve = MP_RETRIEVE_SEEN;
	return r;
}

struct decide_case {
	const char *name;
	uint64_t keep;
	enum mp_dele_action on_dele;
	uint64_t defer;
	struct mp_retention_msg msg;
	uint64_t as_of;
	/* expected */
	enum mp_msg_state state;
	uint64_t expires;
	bool expired;
	enum mp_expire_reason reason;
	bool restamp_retrieved, restamp_deleted;
};

#define RETR(at) { .retrieved = true, .retrieved_at = (at) }
#define DELE(kind, rat, dat) { .retrieved = (rat) != 0, .retrieved_at = (rat), \
	.dele = (kind), .deleted_at = (dat) }
#define DELE_UNRETRIEVED(kind, dat) { .retrieved = false, .dele = (kind), \
	.deleted_at = (dat) }

static const struct decide_case decide_cases[] = {
	/* never retrieved, never DELE'd: never expires, whatever the policy */
	{ "new, keep 0", 0, MP_DELE_EXPUNGE, 0, { 0 }, NOW,
	  MP_MSG_NEW, 0, false, MP_EXPIRE_NONE, false, false },
	{ "new, far future", 1, MP_DELE_DEFER, 1, { 0 }, UINT64_MAX,
	  MP_MSG_NEW, 0, false, MP_EXPIRE_NONE, false, false },

	/* retrieved: keep_after_retrieval from the first retrieval */
	{ "retrieved 30d, a second before", 30 * DAY, MP_DELE_EXPUNGE, 0,
	  RETR(T0), T0 + 30 * DAY - 1,
	  MP_MSG_RETRIEVED, T0 + 30 * DAY, false, MP_EXPIRE_NONE, false, false },
	{ "retrieved 30d, at the second", 30 * DAY, MP_DELE_EXPUNGE, 0,
	  RETR(T0), T0 + 30 * DAY,
	  MP_MSG_RETRIEVED, T0 + 30 * DAY, true, MP_EXPIRE_RETRIEVED, false, false },
	{ "retrieved 30d, much later", 30 * DAY, MP_DELE_EXPUNGE, 0,
	  RETR(T0), T0 + 3650 * DAY,
	  MP_MSG_RETRIEVED, T0 + 30 * DAY, true, MP_EXPIRE_RETRIEVED, false, false },
	{ "retrieved, keep never", NEVER, MP_DELE_EXPUNGE, 0,
	  RETR(T0), UINT64_MAX,
	  MP_MSG_RETRIEVED, 0, false, MP_EXPIRE_NONE, false, false },
	{ "retrieved, keep 0: gone at once", 0, MP_DELE_EXPUNGE, 0,
	  RETR(T0), T0,
	  MP_MSG_RETRIEVED, T0, true, MP_EXPIRE_RETRIEVED, false, false },
	{ "retrieved at 0, keep 0", 0, MP_DELE_EXPUNGE, 0,
	  RETR(0), 0,
	  /* time 0 means lost: re-stamped with the wall clock */
	  MP_MSG_RETRIEVED, NOW, false, MP_EXPIRE_NONE, true, false },
	{ "retrieved, huge keep saturates", MP_DURATION_MAX_SECS, MP_DELE_EXPUNGE, 0,
	  RETR(UINT64_MAX - 5), UINT64_MAX - 1,
	  MP_MSG_RETRIEVED, UINT64_MAX, false, MP_EXPIRE_NONE, false, false },

	/* the time was lost, the marker survived: re-stamped now, longer */
	{ "lost retrieval time", 30 * DAY, MP_DELE_EXPUNGE, 0,
	  RETR(0), NOW + 30 * DAY - 1,
	  MP_MSG_RETRIEVED, NOW + 30 * DAY, false, MP_EXPIRE_NONE, true, false },
	{ "lost retrieval time, as of later", 30 * DAY, MP_DELE_EXPUNGE, 0,
	  RETR(0), NOW + 30 * DAY,
	  MP_MSG_RETRIEVED, NOW + 30 * DAY, true, MP_EXPIRE_RETRIEVED, true, false },

	/* deferred DELE: D after the DELE, whatever keep says */
	{ "deferred 7d, keep never", NEVER, MP_DELE_DEFER, 7 * DAY,
	  DELE(MP_MSG_DELE_DEFERRED, T0, T0 + DAY), T0 + 8 * DAY - 1,
	  MP_MSG_DEFERRED, T0 + 8 * DAY, false, MP_EXPIRE_NONE, false, false },
	{ "deferred 7d, keep never, at the second", NEVER, MP_DELE_DEFER, 7 * DAY,
	  DELE(MP_MSG_DELE_DEFERRED, T0, T0 + DAY), T0 + 8 * DAY,
	  MP_MSG_DEFERRED, T0 + 8 * DAY, true, MP_EXPIRE_DEFERRED, false, false },
	{ "deferred 7d outlives keep 0", 0, MP_DELE_DEFER, 7 * DAY,
	  DELE(MP_MSG_DELE_DEFERRED, T0, T0), T0 + DAY,
	  MP_MSG_DEFERRED, T0 + 7 * DAY, false, MP_EXPIRE_NONE, false, false },
	{ "deferred, never retrieved", 30 * DAY, MP_DELE_DEFER, 2 * DAY,
	  DELE_UNRETRIEVED(MP_MSG_DELE_DEFERRED, T0), T0 + 2 * DAY,
	  MP_MSG_DEFERRED, T0 + 2 * DAY, true, MP_EXPIRE_DEFERRED, false, false },
	{ "deferred, DELE time lost", 30 * DAY, MP_DELE_DEFER, 7 * DAY,
	  DELE(MP_MSG_DELE_DEFERRED, T0, 0), NOW + 7 * DAY - 1,
	  MP_MSG_DEFERRED, NOW + 7 * DAY, false, MP_EXPIRE_NONE, false, true },
	{ "deferred, both times lost", 30 * DAY, MP_DELE_DEFER, 7 * DAY,
	  { .retrieved = true, .dele = MP_MSG_DELE_DEFERRED }, NOW,
	  MP_MSG_DEFERRED, NOW + 7 * DAY, false, MP_EXPIRE_NONE, true, true },
	{ "deferred, policy now hide: hidden rule", 30 * DAY, MP_DELE_HIDE, 0,
	  DELE(MP_MSG_DELE_DEFERRED, T0, T0 + DAY), T0 + 30 * DAY,
	  MP_MSG_DEFERRED, T0 + 30 * DAY, true, MP_EXPIRE_HIDDEN, false, false },
	{ "deferred, policy now expunge: at once", NEVER, MP_DELE_EXPUNGE, 0,
	  DELE(MP_MSG_DELE_DEFERRED, T0, T0 + DAY), T0 + DAY,
	  MP_MSG_DEFERRED, T0 + DAY, true, MP_EXPIRE_DEFERRED, false, false },

	/* hidden DELE: kept until keep_after_retrieval runs out */
	{ "hidden, keep 30d", 30 * DAY, MP_DELE_HIDE, 0,
	  DELE(MP_MSG_DELE_HIDDEN, T0, T0 + 5 * DAY), T0 + 30 * DAY - 1,
	  MP_MSG_HIDDEN, T0 + 30 * DAY, false, MP_EXPIRE_NONE, false, false },
	{ "hidden, keep 30d, expired", 30 * DAY, MP_DELE_HIDE, 0,
	  DELE(MP_MSG_DELE_HIDDEN, T0, T0 + 5 * DAY), T0 + 30 * DAY,
	  MP_MSG_HIDDEN, T0 + 30 * DAY, true, MP_EXPIRE_HIDDEN, false, false },
	{ "hidden, keep never: for ever", NEVER, MP_DELE_HIDE, 0,
	  DELE(MP_MSG_DELE_HIDDEN, T0, T0), UINT64_MAX,
	  MP_MSG_HIDDEN, 0, false, MP_EXPIRE_NONE, false, false },
	{ "hidden, never retrieved: from the DELE", 30 * DAY, MP_DELE_HIDE, 0,
	  DELE_UNRETRIEVED(MP_MSG_DELE_HIDDEN, T0 + DAY), T0 + 31 * DAY,
	  MP_MSG_HIDDEN, T0 + 31 * DAY, true, MP_EXPIRE_HIDDEN, false, false },
	{ "hidden, policy now defer: still hidden", 30 * DAY, MP_DELE_DEFER, DAY,
	  DELE(MP_MSG_DELE_HIDDEN, T0, T0), T0 + 2 * DAY,
	  MP_MSG_HIDDEN, T0 + 30 * DAY, false, MP_EXPIRE_NONE, false, false },
};

static void test_decide(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(decide_cases); i++) {
		const struct decide_case *c = &decide_cases[i];
		struct mp_retention r = policy(c->keep, c->on_dele, c->defer);
		struct mp_retention_verdict v;

		mp_retention_decide(&r, &c->msg, NOW, c->as_of, &v);
		if (v.state != c->state || v.expires != c->expires ||
		    v.expired != c->expired || v.reason != c->reason ||
		    v.restamp_retrieved != c->restamp_retrieved ||
		    v.restamp_deleted != c->restamp_deleted)
			fail_msg("%s: got state %s expires %llu expired %d "
				 "reason %s restamp %d/%d", c->name,
				 mp_msg_state_name(v.state),
				 (unsigned long long)v.expires, v.expired,
				 mp_expire_reason_name(v.reason),
				 v.restamp_retrieved, v.restamp_deleted);
	}
}

/* The times a verdict hands back: the stored ones, or the stamp. */
static void test_decide_times(void **state)
{
	struct mp_retention r = policy(30 * DAY, MP_DELE_DEFER, DAY);
	struct mp_retention_msg m = { .retrieved = true, .retrieved_at = T0,
				      .dele = MP_MSG_DELE_DEFERRED };
	struct mp_retention_verdict v;

	(void)state;
	mp_retention_decide(&r, &m, NOW, NOW, &v);
	assert_int_equal(v.retrieved_at, T0);
	assert_int_equal(v.deleted_at, NOW);
	assert_int_equal(v.clock, T0);

	m.retrieved = false;
	m.retrieved_at = 0;
	mp_retention_decide(&r, &m, NOW, NOW, &v);
	assert_int_equal(v.retrieved_at, 0);
	assert_false(v.restamp_retrieved);
	assert_int_equal(v.clock, NOW);
}

/* Retention only ever gets longer: however the marker's time was lost,
   the re-stamped expiry is never before the one the original time gave. */
static void test_restamp_never_shortens(void **state)
{
	static const uint64_t keeps[] = { 0, 1, DAY, 30 * DAY, NEVER };
	static const uint64_t ages[] = { 0, 1, DAY, 29 * DAY, 400 * DAY };
	size_t i, j;

	(void)state;
	for (i = 0; i < N_ELEMENTS(keeps); i++) {
		for (j = 0; j < N_ELEMENTS(ages); j++) {
			struct mp_retention r = policy(keeps[i], MP_DELE_HIDE, 0);
			struct mp_retention_msg orig = RETR(NOW - ages[j]);
			struct mp_retention_msg lost = RETR(0);
			struct mp_retention_verdict a, b;

			mp_retention_decide(&r, &orig, NOW, NOW, &a);
			mp_retention_decide(&r, &lost, NOW, NOW, &b);
			if (a.expires == 0)
				assert_int_equal(b.expires, 0);
			else
				assert_true(b.expires >= a.expires);
			assert_true(b.expired <= a.expired);
		}
	}
}

struct cap_case {
	const char *name;
	uint64_t cap;
	size_t count;
	struct mp_retention_item items[5];
	size_t marked;
	uint32_t gone[5];	/* orders of the marked items, 0-terminated */
};

static const struct cap_case cap_cases[] = {
	{ "no cap", 0, 3, { { 1, 100, 1, 0 }, { 2, 100, 2, 0 }, { 3, 100, 3, 0 } },
	  0, { 0 } },
	{ "nothing retained", 10, 0, { { 0 } }, 0, { 0 } },
	{ "exactly at the cap", 300, 3,
	  { { 1, 100, 1, 0 }, { 2, 100, 2, 0 }, { 3, 100, 3, 0 } }, 0, { 0 } },
	{ "one byte over: the earliest goes", 299, 3,
	  { { 3, 100, 3, 0 }, { 1, 100, 1, 0 }, { 2, 100, 2, 0 } }, 1, { 1 } },
	{ "far over: all but the last", 1, 3,
	  { { 5, 10, 1, 0 }, { 4, 10, 2, 0 }, { 6, 10, 3, 0 } }, 3, { 2, 1, 3 } },
	{ "a big early one frees enough", 150, 3,
	  { { 1, 1000, 7, 0 }, { 2, 100, 8, 0 }, { 3, 50, 9, 0 } }, 1, { 7 } },
	{ "same clock: lower order first", 100, 3,
	  { { 5, 100, 9, 0 }, { 5, 100, 2, 0 }, { 5, 100, 4, 0 } }, 2, { 2, 4 } },
	{ "sizes that overflow the sum", UINT64_MAX - 1, 2,
	  { { 1, UINT64_MAX, 1, 0 }, { 2, UINT64_MAX, 2, 0 } }, 2, { 1, 2 } },
};

static void test_over_cap(void **state)
{
	size_t i, j, k;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cap_cases); i++) {
		const struct cap_case *c = &cap_cases[i];
		struct mp_retention_item items[5];
		size_t marked;

		memcpy(items, c->items, sizeof(items));
		marked = mp_retention_over_cap(c->cap, items, c->count);
		if (marked != c->marked)
			fail_msg("%s: %zu marked, expected %zu", c->name,
				 marked, c->marked);
		for (j = 0; j < c->count; j++) {
			bool expected = false;

			for (k = 0; k < c->marked; k++)
				expected = expected || c->gone[k] == items[j].order;
			if (items[j].over_cap != expected)
				fail_msg("%s: item %u over_cap=%d", c->name,
					 items[j].order, items[j].over_cap);
		}
	}
}

static void test_expire_capa(void **state)
{
	static const struct {
		uint64_t keep;
		const char *capa;
	} cases[] = {
		{ NEVER, "NEVER" }, { 0, "0" }, { 12 * HOUR, "0" },
		{ DAY, "1" }, { 36 * HOUR, "1" }, { 30 * DAY, "30" },
		{ MP_DURATION_MAX_SECS, "106751991167" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct mp_retention r = policy(cases[i].keep, MP_DELE_EXPUNGE, 0);

		assert_string_equal(mp_retention_expire_capa(&r, buf, sizeof(buf)),
				    cases[i].capa);
	}
	/* truncated, still terminated */
	struct mp_retention r = policy(NEVER, MP_DELE_EXPUNGE, 0);
	assert_string_equal(mp_retention_expire_capa(&r, buf, 3), "NE");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(mp_msg_state_name(MP_MSG_NEW), "new");
	assert_string_equal(mp_msg_state_name(MP_MSG_RETRIEVED), "retrieved");
	assert_string_equal(mp_msg_state_name(MP_MSG_DEFERRED), "deferred");
	assert_string_equal(mp_msg_state_name(MP_MSG_HIDDEN), "hidden");
	assert_string_equal(mp_expire_reason_name(MP_EXPIRE_SIZE), "size");
	assert_string_equal(mp_expire_reason_name(MP_EXPIRE_NONE), "-");
}

struct time_case {
	const char *input;
	uint64_t value;
	const char *error;
};

static const struct time_case time_cases[] = {
	{ "0", 0, NULL },
	{ "1767225600", 1767225600, NULL },
	{ "2026-12-31", 1798675200, NULL },
	{ "2026-12-31T08:00:00Z", 1798704000, NULL },
	{ "2026-12-31t08:00:00z", 1798704000, NULL },
	{ "2026-12-31T08:00Z", 1798704000, NULL },
	{ "2026-12-31T08:00:00", 1798704000, NULL },
	{ "2026-12-31T08:00:00+02:00", 1798696800, NULL },
	{ "2026-12-31T08:00:00+0200", 1798696800, NULL },
	{ "2026-12-31T06:00:00-02:00", 1798704000, NULL },
	{ "2024-02-29", 1709164800, NULL },
	{ "2000-03-01", 951868800, NULL },
	{ "2100-03-01", 4107542400, NULL },
	{ "1970-01-01", 0, NULL },
	{ "+0", NOW, NULL },
	{ "+31d", NOW + 31 * DAY, NULL },
	{ "+2w", NOW + 14 * DAY, NULL },
	{ "", 0, "empty" },
	{ "+", 0, "invalid duration" },
	{ "+never", 0, "not a time" },
	{ "+31", 0, "missing unit" },
	{ "+-1d", 0, "invalid duration" },
	{ "-5", 0, "expected YYYY-MM-DD" },
	{ "99999999999999999999", 0, "too large" },
	{ "2026-02-29", 0, "no such date" },
	{ "2026-13-01", 0, "no such date" },
	{ "2026-04-31", 0, "no such date" },
	{ "1969-12-31", 0, "no such date" },
	{ "2026-1-1", 0, "expected YYYY-MM-DD" },
	{ "2026-12-31T25:00", 0, "out of range" },
	{ "2026-12-31T08", 0, "THH:MM" },
	{ "2026-12-31T08:00:6", 0, "seconds" },
	{ "2026-12-31T08:00:00+2", 0, "zone offset" },
	{ "2026-12-31T08:00:00+24:00", 0, "zone offset" },
	{ "2026-12-31 08:00", 0, "unexpected characters" },
	{ "1970-01-01T00:00+01:00", 0, "before 1970" },
	{ "yesterday", 0, "expected YYYY-MM-DD" },
};

static void test_parse_time(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(time_cases); i++) {
		const struct time_case *c = &time_cases[i];
		const char *error = NULL;
		uint64_t value = 12345;
		int ret = mp_retention_parse_time(c->input, NOW, &value, &error);

		if (c->error == NULL) {
			if (ret != 0)
				fail_msg("\"%s\": unexpected error: %s",
					 c->input, error);
			if (value != c->value)
				fail_msg("\"%s\": %llu, expected %llu", c->input,
					 (unsigned long long)value,
					 (unsigned long long)c->value);
		} else {
			if (ret != -1)
				fail_msg("\"%s\": parsed, expected \"%s\"",
					 c->input, c->error);
			if (error == NULL || strstr(error, c->error) == NULL)
				fail_msg("\"%s\": error \"%s\", expected \"%s\"",
					 c->input, error, c->error);
		}
	}
	assert_int_equal(mp_retention_parse_time(NULL, NOW, &(uint64_t){ 0 },
						 &(const char *){ NULL }), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_decide_times),
		cmocka_unit_test(test_restamp_never_shortens),
		cmocka_unit_test(test_over_cap),
		cmocka_unit_test(test_expire_capa),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

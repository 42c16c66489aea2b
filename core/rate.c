/* rate.c: the sliding-window-counter limiter (mp_rate_*) and the entry
 * points that hand a check to a store.
 *
 * Everything here is integer arithmetic in milliseconds.  The one
 * product the rule needs, prev * (W - elapsed), can exceed 64 bits for
 * large counts times long windows, so it is done in 128 bits by hand:
 * __int128 does not exist on the 32-bit Debian architectures that also
 * run Postfix and Dovecot.
 *
 * DIAGNOSTICS: mp_rate_check() and mp_rate_check_items() fail
 * (MP_RATE_FAILED) on a NULL argument, a key longer than
 * MP_RATE_MAX_KEY_LEN, the same key twice in one call, a rate with a
 * zero window, or whatever the store reports. */

#include <string.h>
#include <time.h>

#include "rate-private.h"

#define MP_RATE_STR2(x) #x
#define MP_RATE_STR(x) MP_RATE_STR2(x)

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* a * b as a 128-bit (hi, lo) pair from 32-bit halves. */
static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi_r, uint64_t *lo_r)
{
	uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
	uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
	uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi;
	uint64_t p2 = a_hi * b_lo, p3 = a_hi * b_hi;
	uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2;

	*lo_r = (mid << 32) | (uint32_t)p0;
	*hi_r = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

/* floor(a * b / c) for b <= c (so the quotient fits, as it is <= a);
   *inexact_r tells whether a remainder was dropped. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c, bool *inexact_r)
{
	uint64_t hi, lo, q = 0;

	mul_64x64(a, b, &hi, &lo);
	if (hi == 0) {
		/* every window up to ~49 days with realistic counts */
		*inexact_r = lo % c != 0;
		return lo / c;
	}
	/* Restoring long division of (hi, lo) by c.  hi < c holds before
	   each step; the bit shifted out of hi (carry) means the partial
	   remainder is >= 2^64 > c, and hi - c then wraps to the right
	   value because the true remainder is < c. */
	for (unsigned int i = 0; i < 64; i++) {
		uint64_t carry = hi >> 63;

		hi = (hi << 1) | (lo >> 63);
		lo <<= 1;
		q <<= 1;
		if (carry != 0 || hi >= c) {
			hi -= c;
			q |= 1;
		}
	}
	*inexact_r = hi != 0;
	return q;
}

static uint64_t muldiv_floor(uint64_t a, uint64_t b, uint64_t c)
{
	bool inexact;

	return muldiv(a, b, c, &inexact);
}

static uint64_t muldiv_ceil(uint64_t a, uint64_t b, uint64_t c)
{
	bool inexact;
	uint64_t q = muldiv(a, b, c, &inexact);

	return inexact ? q + 1 : q;
}

uint64_t mp_rate_window_ms(const struct mp_rate_spec *rate)
{
	if (rate->window_secs > UINT64_MAX / 1000)
		return UINT64_MAX;
	return rate->window_secs * 1000;
}

/* Moves *w forward to the window holding now_ms (with its own window
   length) and returns the time to compute at: now_ms, or the start of
   the current window when now_ms lies before it. */
static uint64_t window_roll(struct mp_rate_window *w, uint64_t now_ms)
{
	uint64_t start;

	if (now_ms < w->start_ms)
		return w->start_ms;
	start = now_ms - now_ms % w->window_ms;
	if (start != w->start_ms) {
		/* the previous window is the one just before start, or
		   empty when a whole window or more passed without events */
		w->prev = start - w->start_ms == w->window_ms ? w->cur : 0;
		w->cur = 0;
		w->start_ms = start;
	}
	return now_ms;
}

/* prev weighted by the part of the previous window still inside the
   sliding window ending at at_ms, plus cur.  w is rolled to at_ms. */
static uint64_t window_estimate(const struct mp_rate_window *w,
				uint64_t at_ms)
{
	uint64_t elapsed = at_ms - w->start_ms;

	return sat_add(muldiv_floor(w->prev, w->window_ms - elapsed,
				    w->window_ms), w->cur);
}

/* Re-bases *w, made with another window length, onto window_ms. */
static void window_rebase(struct mp_rate_window *w, uint64_t window_ms,
			  uint64_t now_ms)
{
	struct mp_rate_window old = *w;
	uint64_t at_ms = window_roll(&old, now_ms);
	uint64_t carry = window_estimate(&old, at_ms);

	if (window_ms < old.window_ms)
		carry = muldiv_ceil(carry, window_ms, old.window_ms);
	w->start_ms = now_ms - now_ms % window_ms;
	w->window_ms = window_ms;
	w->prev = 0;
	w->cur = carry;
}

/* Offset from w->start_ms (a rolled, limited state) of the first
   millisecond at which one event would be allowed if none came in
   between.  Always > elapsed. */
static uint64_t window_allowed_at(const struct mp_rate_window *w,
				  uint64_t limit)
{
	uint64_t W = w->window_ms, q;

	if (w->cur >= limit) {
		/* Not in this window.  In the next one (offset W + t) cur
		   becomes prev and the rule is cur * (W - t) < limit * W:
		   W - t must be below q = ceil(limit * W / cur) <= W. */
		q = muldiv_ceil(limit, W, w->cur);
		return sat_add(W, W - q + 1);
	}
	/* Later in this window: prev * (W - e) < (limit - cur) * W.
	   prev >= limit - cur here, because the weighted prev alone
	   reached it, so q <= W. */
	q = muldiv_ceil(limit - w->cur, W, w->prev);
	return W - q + 1;
}

enum mp_rate_status mp_rate_window_apply(struct mp_rate_window *w,
					 uint64_t limit, uint64_t window_ms,
					 uint64_t cost, uint64_t now_ms,
					 struct mp_rate_result *result_r)
{
	uint64_t at_ms, elapsed, estimate, need = cost == 0 ? 1 : cost;

	if (w->window_ms == 0) {
		w->start_ms = now_ms - now_ms % window_ms;
		w->window_ms = window_ms;
		w->prev = 0;
		w->cur = 0;
	} else if (w->window_ms != window_ms) {
		window_rebase(w, window_ms, now_ms);
	}
	at_ms = window_roll(w, now_ms);
	elapsed = at_ms - w->start_ms;
	estimate = window_estimate(w, at_ms);

	if (need <= limit && estimate <= limit - need) {
		/* cur <= estimate <= limit - cost: no overflow */
		w->cur += cost;
		result_r->count = estimate + cost;
		result_r->retry_after_ms = 0;
		return MP_RATE_ALLOWED;
	}
	result_r->count = estimate;
	if (need > limit) {
		result_r->retry_after_ms = UINT64_MAX;
		return MP_RATE_LIMITED;
	}
	/* The cost fits once the estimate is below limit - need + 1.
	   Measured on the caller's clock: when it is behind the window
	   start, the wait includes the difference. */
	result_r->retry_after_ms =
		sat_add(window_allowed_at(w, limit - need + 1) - elapsed,
			at_ms - now_ms);
	return MP_RATE_LIMITED;
}

bool mp_rate_window_expired(const struct mp_rate_window *w, uint64_t now_ms)
{
	uint64_t since;

	if (w->window_ms == 0)
		return true;
	if (now_ms < w->start_ms)
		return false;
	since = now_ms - w->start_ms;
	return since >= w->window_ms && since - w->window_ms >= w->window_ms;
}

/* Validates items and builds the store's ops; returns the number of
   ops, or -1 with *error_r and the offending item FAILED. */
static int rate_ops_build(struct mp_rate_item *items, size_t count,
			  struct mp_rate_op *ops, const char **error_r)
{
	size_t i, j, n = 0;

	for (i = 0; i < count; i++) {
		struct mp_rate_item *item = &items[i];
		size_t key_len;

		item->status = MP_RATE_ALLOWED;
		item->result.count = 0;
		item->result.retry_after_ms = 0;
		if (item->rate.count == 0)
			continue;
		if (item->key == NULL) {
			*error_r = "rate check without a key";
			goto fail;
		}
		if (item->rate.window_secs == 0) {
			*error_r = "invalid rate: zero window";
			goto fail;
		}
		key_len = strnlen(item->key, MP_RATE_MAX_KEY_LEN + 1);
		if (key_len > MP_RATE_MAX_KEY_LEN) {
			*error_r = "rate key too long (more than "
				MP_RATE_STR(MP_RATE_MAX_KEY_LEN) " bytes)";
			goto fail;
		}
		for (j = 0; j < n; j++) {
			if (ops[j].key_len == key_len &&
			    memcmp(ops[j].key, item->key, key_len) == 0) {
				*error_r = "the same rate key twice in one check";
				goto fail;
			}
		}
		ops[n].key = item->key;
		ops[n].key_len = key_len;
		ops[n].limit = item->rate.count;
		ops[n].window_ms = mp_rate_window_ms(&item->rate);
		ops[n].cost = item->cost;
		ops[n].item = item;
		n++;
		continue;
	fail:
		item->status = MP_RATE_FAILED;
		return -1;
	}
	return (int)n;
}

enum mp_rate_status mp_rate_check_items(struct mp_rate_store *store,
					struct mp_rate_item *items,
					size_t count, uint64_t now_ms,
					const char **error_r)
{
	struct mp_rate_op ops[MP_RATE_MAX_ITEMS];
	const char *unused_error;
	enum mp_rate_status status;
	int n;
	size_t i;

	if (error_r == NULL)
		error_r = &unused_error;
	if (count > MP_RATE_MAX_ITEMS) {
		*error_r = "too many items in one rate check (more than "
			MP_RATE_STR(MP_RATE_MAX_ITEMS) ")";
		return MP_RATE_FAILED;
	}
	if (count > 0 && items == NULL) {
		*error_r = "rate check without items";
		return MP_RATE_FAILED;
	}
	n = rate_ops_build(items, count, ops, error_r);
	if (n < 0)
		return MP_RATE_FAILED;
	if (n == 0)
		return MP_RATE_ALLOWED;
	if (store == NULL) {
		*error_r = "rate check without a store";
		return MP_RATE_FAILED;
	}
	status = store->v->check(store, ops, (size_t)n, now_ms, error_r);
	if (status == MP_RATE_FAILED) {
		for (i = 0; i < (size_t)n; i++)
			ops[i].item->status = MP_RATE_FAILED;
	}
	return status;
}

enum mp_rate_status mp_rate_check(struct mp_rate_store *store, const char *key,
				  const struct mp_rate_spec *rate,
				  uint64_t now_ms,
				  struct mp_rate_result *result_r,
				  const char **error_r)
{
	struct mp_rate_item item;
	const char *unused_error;
	enum mp_rate_status status;

	if (error_r == NULL)
		error_r = &unused_error;
	if (result_r != NULL) {
		result_r->count = 0;
		result_r->retry_after_ms = 0;
	}
	if (rate == NULL) {
		*error_r = "rate check without a rate";
		return MP_RATE_FAILED;
	}
	if (rate->count == 0)
		return MP_RATE_ALLOWED;
	if (store == NULL || key == NULL) {
		*error_r = "rate check without a store or key";
		return MP_RATE_FAILED;
	}
	memset(&item, 0, sizeof(item));
	item.key = key;
	item.rate = *rate;
	item.cost = 1;
	status = mp_rate_check_items(store, &item, 1, now_ms, error_r);
	if (result_r != NULL && status != MP_RATE_FAILED)
		*result_r = item.result;
	return status;
}

void mp_rate_store_free(struct mp_rate_store **store)
{
	struct mp_rate_store *s = *store;

	if (s == NULL)
		return;
	*store = NULL;
	s->v->free(s);
}

const char *mp_rate_store_name(const struct mp_rate_store *store)
{
	return store->v->name;
}

uint64_t mp_rate_clock_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#ifndef MAILPOLICY_RATE_PRIVATE_H
#define MAILPOLICY_RATE_PRIVATE_H

/* rate-private.h: what the rate stores share inside the core.
 *
 * A store implements ONE operation, check: for a set of keys, read
 * their window states, apply each key's cost with mp_rate_window_apply()
 * to a copy, and write the copies back only when every key fits, as a
 * single atomic step with respect to every other caller of that store.
 * The memory store does it under its shard mutexes (taken in shard
 * order); the Redis store does it in one Lua script (EVALSHA) that mirrors
 * mp_rate_window_apply() on a hash {start, window, prev, cur} with a
 * PEXPIRE of two windows.  Keeping the whole check-and-count inside the
 * store, rather than get/set calls from the limiter, is what makes a
 * shared store free of lost updates and over-admission.
 *
 * The arithmetic is pure (no clock, no locks, no allocation) so that the
 * unit tests drive it with a table and the Lua script can be read
 * against it line by line.  Lua's numbers are doubles, exact to 2^53:
 * the Redis store has to keep counts and window lengths within that
 * (2^53 ms is 285,000 years; a limit that high is no limit) or the two
 * stores will round differently. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/rate.h"

/* The state of one key.  Windows are fixed intervals aligned to the
   epoch ([k*W, (k+1)*W) milliseconds), so every host sharing a store
   agrees on where they start. */
struct mp_rate_window {
	uint64_t start_ms;	/* start of the current window */
	uint64_t window_ms;	/* W the counts were made with; 0 = no state */
	uint64_t prev;		/* events in [start - W, start) */
	uint64_t cur;		/* events in [start, start + W) so far */
};

/* One item of a check as the stores see it: validated, with rate count
   0 items removed. */
struct mp_rate_op {
	const char *key;
	size_t key_len;		/* 1..MP_RATE_MAX_KEY_LEN, NUL follows */
	uint64_t limit;		/* >= 1 */
	uint64_t window_ms;	/* >= 1000 */
	uint64_t cost;
	struct mp_rate_item *item;	/* status and result go here */
};

struct mp_rate_store_vfuncs {
	const char *name;
	/* Applies ops[0..count) (count >= 1, distinct keys) at now_ms as
	   mp_rate_check_items() defines it, atomically, filling each
	   item's status and result.  Returns what mp_rate_check_items()
	   returns. */
	enum mp_rate_status (*check)(struct mp_rate_store *store,
				     struct mp_rate_op *ops, size_t count,
				     uint64_t now_ms, const char **error_r);
	/* Frees the store and everything it owns. */
	void (*free)(struct mp_rate_store *store);
};

/* Every store's struct begins with this. */
struct mp_rate_store {
	const struct mp_rate_store_vfuncs *v;
	const struct mp_env *env;
};

/* rate->window_secs in milliseconds, saturating at UINT64_MAX. */
uint64_t mp_rate_window_ms(const struct mp_rate_spec *rate);

/* Applies `cost` events at now_ms to *w for a limit of `limit` events
   per window_ms (both >= 1) and updates *w; fills *result_r.  With
       estimate = floor(prev * (W - elapsed) / W) + cur
   the events are allowed, and counted, iff
       estimate + max(cost, 1) <= limit
   which for cost 1 and an integer limit is exactly the real-valued rule
   in rate.h (cost 0 asks "is it under the limit now" and counts
   nothing).  When limited, retry_after_ms is the wait until the cost
   would fit, UINT64_MAX when cost > limit.  *w is also updated when
   limited (rolled to now_ms): callers that must not commit work on a
   copy.
   Rules for the edges:
   - now_ms before w->start_ms (the clock went backwards, or another
     host's clock is ahead): the event falls in the current window at
     elapsed 0, where the previous window weighs fully: never more
     permissive than a correct clock, and no unsigned underflow;
   - w->window_ms != window_ms (the policy was reloaded with another
     window): the old estimate at now_ms is carried into a fresh current
     window, scaled by new/old when the window shrank (the sliding
     counter's own assumption of evenly spread events), rounded up: a
     reload neither forgets a burst nor counts it twice;
   - all products are 128-bit, so no count or window can overflow. */
enum mp_rate_status mp_rate_window_apply(struct mp_rate_window *w,
					 uint64_t limit, uint64_t window_ms,
					 uint64_t cost, uint64_t now_ms,
					 struct mp_rate_result *result_r);

/* True when forgetting *w changes no future answer: both of its windows
   have passed (now_ms >= start + 2W), or it holds no state. */
bool mp_rate_window_expired(const struct mp_rate_window *w, uint64_t now_ms);

/* For tests: the number of keys the memory store holds. */
size_t mp_rate_store_memory_count(struct mp_rate_store *store);

#endif

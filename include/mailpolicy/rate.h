#ifndef MAILPOLICY_RATE_H
#define MAILPOLICY_RATE_H

/* mp_rate: rate limiting ("200/1h" per login, client IP or sender) over
 * a pluggable counter store.
 *
 * The limiter is a sliding-window counter: each key keeps the count of
 * the current fixed window and of the previous one, and an event is
 * allowed while  prev * (1 - elapsed/window) + cur  < limit.  Why: it
 * reads as admins read "200/1h" (about 200 in any hour, not a token
 * bucket's 200 burst plus refill), it needs O(1) memory per key, and it
 * maps onto one atomic Redis round trip for the shared store.
 *
 * Stores: "memory" (this process; sharded hash tables under mutexes,
 * bounded in keys) and, with the milter, Redis.  All functions are
 * thread-safe for concurrent use of one store. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/env.h"
#include "mailpolicy/units.h"

#define MP_RATE_MAX_KEY_LEN 512

struct mp_rate_store;

enum mp_rate_status {
	MP_RATE_ALLOWED,	/* counted */
	MP_RATE_LIMITED,	/* over the limit: not counted */
	MP_RATE_FAILED,		/* the store could not answer: see error_r */
};

struct mp_rate_result {
	/* Estimated events in the sliding window, including this one when
	   allowed. */
	uint64_t count;
	/* When limited: milliseconds until an event would be allowed. */
	uint64_t retry_after_ms;
};

/* Creates the in-process store, holding at most max_keys keys (0 = a
   default of 1,000,000).  When full, entries whose windows have passed
   are dropped first, then the least recently used: a forgotten key
   starts from zero (fails open), which the store logs once per minute.
   Returns 0, or -1 with a static *error_r. */
int mp_rate_store_memory_create(const struct mp_env *env, size_t max_keys,
				struct mp_rate_store **store_r,
				const char **error_r);

/* Frees the store and sets *store to NULL; NULL is a no-op.  No other
   thread may use it any more. */
void mp_rate_store_free(struct mp_rate_store **store);

/* The store's kind, "memory" or "redis". */
const char *mp_rate_store_name(const struct mp_rate_store *store);

/* Counts one event for key (any bytes but NUL, at most
   MP_RATE_MAX_KEY_LEN) against rate at now_ms (milliseconds since the
   epoch; use mp_rate_clock_ms() outside tests).  Callers build keys
   with their own namespace, e.g. "submission/login/alice@example.com".
   A rate with count 0 always allows.  result_r may be NULL.  On
   MP_RATE_FAILED *error_r says why (static or store-owned until the
   next call from this thread). */
enum mp_rate_status mp_rate_check(struct mp_rate_store *store, const char *key,
				  const struct mp_rate_spec *rate,
				  uint64_t now_ms,
				  struct mp_rate_result *result_r,
				  const char **error_r);

/* Wall-clock milliseconds (CLOCK_REALTIME): shared stores compare the
   clocks of several hosts. */
uint64_t mp_rate_clock_ms(void);

#endif

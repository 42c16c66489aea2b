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
 * Windows are aligned to the epoch (every host agrees where they start)
 * and the rule is evaluated exactly in integers (milliseconds, 128-bit
 * products): no count or window length overflows.  A caller's clock
 * behind a key's window start (clock stepped back, another host ahead)
 * counts as the start of that window, where the previous window weighs
 * fully: never looser than a correct clock.  When a key's window length
 * changes (a policy reload), its estimate under the old window carries
 * over into the new one, scaled down if the window shrank: a reload
 * neither forgets a burst nor counts it twice.  A lowered limit applies
 * at once to the counts already made.
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
   default of 1,000,000; each costs about 150 bytes).  When full, a new
   key replaces an entry whose windows have both passed, which loses
   nothing; failing that, the least recently used one (exact within a
   shard, the store has up to 64): that key starts again from zero, so
   its limit fails open, which is the price of bounded memory and which
   the store logs (warning) at most once a minute.  Returns 0, or -1 with
   a static *error_r (out of memory, max_keys above about 4 billion). */
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
   with their own namespace, e.g. "submission/login/alice@example.com";
   keys compare as bytes, so callers fold case where it does not matter.
   A rate with count 0 always allows, touching no store (result 0, 0).
   The check and the count are one atomic step per key, whatever the
   threads or, for Redis, hosts.  result_r may be NULL; when limited,
   retry_after_ms is exact if no other event comes for the key, measured
   on the caller's clock.  MP_RATE_FAILED for a NULL store, key or rate,
   a key too long, a zero window with a count, or a store failure;
   *error_r then says why (static or store-owned until the next call
   from this thread). */
enum mp_rate_status mp_rate_check(struct mp_rate_store *store, const char *key,
				  const struct mp_rate_spec *rate,
				  uint64_t now_ms,
				  struct mp_rate_result *result_r,
				  const char **error_r);

/* Wall-clock milliseconds (CLOCK_REALTIME): shared stores compare the
   clocks of several hosts. */
uint64_t mp_rate_clock_ms(void);

#endif

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
 * A message is usually limited by several keys at once (the login, the
 * client's address, the sender; later several windows of one key, or a
 * recipient count as its cost): mp_rate_check_items() checks them all
 * and counts the message against every one of them only when none is
 * over its limit, as one atomic step, so a refused message spends no
 * quota on any key.
 *
 * Stores: "memory" (this process; sharded hash tables under mutexes,
 * bounded in keys) and "redis" (shared by many hosts; one round trip
 * per call, a Lua script, with a deadline).  All functions are
 * thread-safe for concurrent use of one store. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/env.h"
#include "mailpolicy/units.h"

#define MP_RATE_MAX_KEY_LEN 512
/* Most items in one mp_rate_check_items() call. */
#define MP_RATE_MAX_ITEMS 32
/* The Redis store computes in Lua doubles: limits, costs and windows (in
   milliseconds) must stay below this, and the policy core refuses rates
   above it. */
#define MP_RATE_MAX_EXACT (UINT64_C(1) << 52)

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

/* One key of a multi-key check. */
struct mp_rate_item {
	/* in */
	const char *key;		/* as for mp_rate_check() */
	struct mp_rate_spec rate;	/* count 0 = no limit: item skipped */
	/* Events this call counts against the key: 1 for a message, the
	   number of recipients for a recipient limit.  The call fits when
	   estimate + cost <= limit.  0 asks whether the key is over its
	   limit now (estimate < limit) without counting anything. */
	uint64_t cost;
	/* out */
	enum mp_rate_status status;	/* ALLOWED, LIMITED (this key is over
					   its limit) or FAILED */
	/* count: the estimate in the window, including this cost only
	   when the call counted it.  retry_after_ms: when LIMITED, until
	   this key alone would fit the cost (UINT64_MAX when the cost
	   exceeds the limit: never). */
	struct mp_rate_result result;
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

/* Checks every item at now_ms and, only when every one fits its limit,
   counts each item's cost against its key: one atomic step across all
   keys, whatever the threads or, for Redis, hosts (one round trip).
   Returns MP_RATE_ALLOWED (all counted), MP_RATE_LIMITED (nothing
   counted; each item's status says whether it was over) or
   MP_RATE_FAILED (nothing counted, except by a memory store that ran
   out of memory half way; *error_r says why: a NULL key, a key too
   long, the same key twice, a zero window with a count,
   more than MP_RATE_MAX_ITEMS items, or a store failure).  Items with
   rate.count 0 are ALLOWED without touching the store; a call with no
   other item is ALLOWED.  Keys are distinct store entries: callers give
   each window of a key its own key (e.g. "...#1h"), so a key always
   keeps one window length. */
enum mp_rate_status mp_rate_check_items(struct mp_rate_store *store,
					struct mp_rate_item *items,
					size_t count, uint64_t now_ms,
					const char **error_r);

/* Options of the Redis store.  Exactly one of host and unix_path is
   set. */
struct mp_rate_redis_settings {
	const char *host;		/* name or address, IPv6 without [] */
	uint16_t port;			/* 0 = 6379 */
	const char *unix_path;		/* a Unix socket instead of TCP */
	unsigned int db;		/* SELECT db after connecting when > 0 */
	const char *password;		/* AUTH password, NULL = none */
	/* Deadline of one call (connect, send, reply), in milliseconds;
	   0 = 250.  Keep it well under Postfix's milter_command_timeout
	   (30 s): a store that does not answer in time is a FAILED call,
	   and the host decides (rate_store_failure). */
	unsigned int timeout_ms;
	/* Most connections open at once (one per concurrent call); 0 = 16.
	   A call that finds all in use waits for one, within its deadline. */
	unsigned int max_connections;
	/* Prefix of every Redis key this store writes; NULL = "mprate:". */
	const char *key_prefix;
};

/* Creates the Redis store.  Connects lazily: creation fails only on bad
   settings or memory; a Redis that is down makes calls FAILED until it
   is back (a failed connection is retried at most every retry delay,
   1 s, so that a dead Redis costs one failed connect a second, not one
   per message).  The settings' strings are copied.  Returns 0, or -1
   with a static *error_r. */
int mp_rate_store_redis_create(const struct mp_env *env,
			       const struct mp_rate_redis_settings *settings,
			       struct mp_rate_store **store_r,
			       const char **error_r);

/* Wall-clock milliseconds (CLOCK_REALTIME): shared stores compare the
   clocks of several hosts. */
uint64_t mp_rate_clock_ms(void);

#endif

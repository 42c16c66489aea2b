#ifndef MILTER_STATS_H
#define MILTER_STATS_H

/* stats: counters for the periodic stats line, and the one log line per
 * tripped rate key.
 *
 * The stats line (every 5 minutes, at reload and on SIGUSR2) reads
 *   stats: sessions=N verdicts: LISTENER/RULE/VERDICT=N ... top_limited: LOGIN=N ...
 * (VERDICT: reject, tempfail or hold)
 * with the counts since the last line.  A rate key that goes over its
 * limit logs "rate limit tripped: ..." once; it logs again only after a
 * message on that key has been allowed (or the key was forgotten after
 * an hour), so a compromised account gives one line, not one per
 * refused message. */

#include <stdbool.h>
#include <stdint.h>

#include "decision.h"

void stats_session(void);
/* One decision that refused or held a message (or, in report mode,
   would have); verdict: milter_decision_word(), a static string. */
void stats_verdict(const char *listener, enum milter_rule rule,
		   const char *verdict, const char *login);
/* Logs and resets the counters. */
void stats_log(void);

/* True when key just tripped (log it), false when it was already known
   to be over its limit. */
bool stats_rate_tripped(const char *key, uint64_t now_ms);
/* The key was allowed again: the next trip logs. */
void stats_rate_cleared(const char *key);

#endif

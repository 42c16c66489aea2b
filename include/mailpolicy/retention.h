#ifndef MAILPOLICY_RETENTION_H
#define MAILPOLICY_RETENTION_H

/* mp_retention_*: what pop3_retention decides about one message, away from
 * any mail server.  The Dovecot plugin reads a message's durable state (a
 * retrieval marker and time, a kept DELE and its time), asks here whether
 * and when it expires under a user's effective retention (struct
 * mp_retention, policy.h), and acts.  Pure functions: no allocation, no
 * clock (times are passed in), any thread.
 *
 * The rules (DESIGN.md, "pop3_retention"; mailpolicy-dovecot(7)):
 *   - a message no POP3 client retrieved nor DELE'd (state new) never
 *     expires;
 *   - a retrieved message expires keep_after_retrieval after its first
 *     retrieval (never with `never`; at once with 0);
 *   - a message whose DELE was deferred expires dele_defer_secs after the
 *     QUIT that applied the DELE, whatever keep_after_retrieval says; if
 *     the user's on_dele is now `hide` it is treated as hidden, if it is
 *     now `expunge` it expires at once (the DELE now means expunge);
 *   - a hidden message (on_dele = hide) expires keep_after_retrieval after
 *     its retrieval, or after the DELE when it was never retrieved;
 *   - a marker whose time was lost (index rebuild, replica) is re-stamped
 *     with the current time: retention only ever gets longer;
 *   - max_retained_size counts every retrieved or DELE'd message still
 *     stored that has not expired; above it, the earliest retrieved go
 *     first (mp_retention_over_cap()). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/policy.h"

/* What a client's DELE left on a message the plugin kept. */
enum mp_msg_dele {
	MP_MSG_DELE_NONE,
	MP_MSG_DELE_DEFERRED,	/* on_dele = defer D at the time of the DELE */
	MP_MSG_DELE_HIDDEN,	/* on_dele = hide at the time of the DELE */
};

/* The states `doveadm pop3-retention status` shows. */
enum mp_msg_state {
	MP_MSG_NEW,
	MP_MSG_RETRIEVED,
	MP_MSG_DEFERRED,
	MP_MSG_HIDDEN,
};

/* Why a message goes. */
enum mp_expire_reason {
	MP_EXPIRE_NONE,		/* it does not */
	MP_EXPIRE_RETRIEVED,	/* keep_after_retrieval ran out */
	MP_EXPIRE_DEFERRED,	/* the deferred DELE's window ran out */
	MP_EXPIRE_HIDDEN,	/* a hidden message's retention ran out */
	MP_EXPIRE_SIZE,		/* over max_retained_size */
};

/* One message as the mailbox records it. */
struct mp_retention_msg {
	bool retrieved;		/* the retrieval marker is set */
	uint64_t retrieved_at;	/* first retrieval, UNIX time; 0 = not known */
	enum mp_msg_dele dele;
	uint64_t deleted_at;	/* the QUIT that applied the DELE; 0 = not known */
};

struct mp_retention_verdict {
	enum mp_msg_state state;
	/* Times after re-stamping (equal to the input when nothing was
	   lost); 0 when the message has no such marker. */
	uint64_t retrieved_at;
	uint64_t deleted_at;
	/* A marker is set but its time was lost: the caller stores the time
	   above (which is stamp_time) before acting on the verdict. */
	bool restamp_retrieved;
	bool restamp_deleted;
	/* When the retention clock started: retrieved_at, or deleted_at for
	   a message DELE'd without a retrieval; 0 for new messages.  Orders
	   messages for max_retained_size (earliest first). */
	uint64_t clock;
	/* When the message expires, UNIX time; 0 = never. */
	uint64_t expires;
	/* expires != 0 && expires <= as_of */
	bool expired;
	enum mp_expire_reason reason;	/* MP_EXPIRE_NONE unless expired */
};

/* Decides msg under policy.  stamp_time is the wall clock, used to
   re-stamp lost times; as_of is the time the decision is made for (the
   wall clock, or a later time for `sweep --as-of`). */
void mp_retention_decide(const struct mp_retention *policy,
			 const struct mp_retention_msg *msg,
			 uint64_t stamp_time, uint64_t as_of,
			 struct mp_retention_verdict *verdict_r);

/* A message kept on the server, for the max_retained_size check. */
struct mp_retention_item {
	uint64_t clock;		/* verdict.clock */
	uint64_t size;		/* bytes */
	uint32_t order;		/* tie-break, lower first (the UID) */
	bool over_cap;		/* out: goes because of the cap */
};

/* Marks (over_cap = true) the items that must go so that the others fit
   in cap bytes, earliest clock first (then lowest order).  Items should
   be the retained messages that have not expired; new messages are never
   items.  cap 0 = no cap: nothing is marked.  Returns the number of
   items marked.  Sorts items in place (by clock, order).  O(n log n). */
size_t mp_retention_over_cap(uint64_t cap, struct mp_retention_item *items,
			     size_t count);

/* "new", "retrieved", "deferred", "hidden". */
const char *mp_msg_state_name(enum mp_msg_state state);
/* "-", "retrieved", "deferred", "hidden", "size". */
const char *mp_expire_reason_name(enum mp_expire_reason reason);

/* The argument of RFC 2449's EXPIRE capability for keep_after_retrieval:
   "NEVER", or whole days rounded down ("0" for anything under a day:
   the server does not promise a day).  Writes at most size bytes, NUL
   terminated; returns buf. */
const char *mp_retention_expire_capa(const struct mp_retention *policy,
				     char *buf, size_t size);

/* Parses a point in time for `sweep --as-of`: a UNIX timestamp ("1767225600"),
   an ISO 8601 date ("2026-12-31", midnight UTC) or date-time
   ("2026-12-31T08:00:00Z", "2026-12-31T08:00:00+02:00", "...T08:00Z"; no
   zone = UTC), or "+DURATION" from now ("+31d", the policy file's
   duration syntax).  Returns 0, or -1 with a static *error_r. */
int mp_retention_parse_time(const char *str, uint64_t now, uint64_t *time_r,
			    const char **error_r);

#endif

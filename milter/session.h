#ifndef MILTER_SESSION_H
#define MILTER_SESSION_H

/* session: the state of one SMTP connection as the milter sees it, kept
 * with smfi_setpriv().  It holds a reference to the config that was
 * current when the connection was negotiated, so a reload never changes
 * the rules under a session in flight.  Per-message fields are reset at
 * each MAIL and at abort; the whole session is freed at close, which can
 * come without any other callback. */

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "decision.h"

struct session {
	struct milter_config *config;
	unsigned int protocol;		/* SMFIP_* agreed at negotiate */

	/* per message, from MAIL on */
	const struct mp_listener *listener;	/* NULL: unknown */
	struct milter_facts facts;
	char daemon_name[MILTER_VALUE_MAX];
	char login[MILTER_VALUE_MAX];
	char auth_type[64];
	char tls_version[64];
	char sender[MILTER_VALUE_MAX];
	char queue_id[64];
	uint64_t rcpts;
	/* local submission (Postfix's cleanup says {daemon_port} 0): a
	   recipient past max_recipients refuses the message at its end */
	bool non_smtp;
	bool too_many_rcpts;
	uint64_t size;			/* header and body bytes seen */
	unsigned int audit_headers;	/* forged audit headers to drop */
	/* header_from = match_sender: whether this message's From headers
	   are checked (set at MAIL), and what they said */
	bool check_from;
	struct milter_from from;
	/* report mode: the first refusal that enforce would have made */
	struct milter_decision report;
	bool in_message;
};

struct session *session_new(struct milter_config *config);
void session_free(struct session **session);
/* Forgets the message (MAIL again, RSET, abort). */
void session_reset_message(struct session *session);

/* Copies a macro value into dst (size bytes); NULL becomes "", a value
   that does not fit becomes "?" (which matches no login or address). */
void session_copy(char *dst, size_t size, const char *value);

#endif

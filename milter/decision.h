#ifndef MILTER_DECISION_H
#define MILTER_DECISION_H

/* decision: what mailpolicy-milter answers, as pure functions of the
 * policy and the facts of a session.  No libmilter type appears here, so
 * the unit test drives it with a table (tests/unit/test-milter-decision.c).
 *
 * The glue (milter-glue.c) gathers the facts from libmilter's callbacks
 * and macros, asks these functions at MAIL, RCPT and end of message, and
 * turns a decision into smfi_setreply() and an SMFIS_* code. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/cidr.h"
#include "mailpolicy/policy.h"
#include "mailpolicy/rate.h"

/* Longest macro or address value the milter keeps; longer ones are cut
   (and then cannot match a login or an address). */
#define MILTER_VALUE_MAX 320

/* The rules a decision can name, for replies, logs, stats and the audit
   header. */
enum milter_rule {
	MILTER_RULE_NONE,		/* accepted */
	MILTER_RULE_UNKNOWN_LISTENER,
	MILTER_RULE_AUTH,
	MILTER_RULE_TLS,
	MILTER_RULE_MIN_TLS,
	MILTER_RULE_AUTH_MECHANISMS,
	MILTER_RULE_ALLOWED_CLIENTS,
	MILTER_RULE_SENDER,
	MILTER_RULE_HEADER_FROM,
	MILTER_RULE_MAX_RECIPIENTS,
	MILTER_RULE_MAX_MESSAGE_SIZE,
	/* the rate keys, in the order of enum mp_limit_key:
	   MILTER_RULE_RATE_LOGIN + key (milter_rate_rule()) */
	MILTER_RULE_RATE_LOGIN,
	MILTER_RULE_RATE_CLIENT_IP,
	MILTER_RULE_RATE_SENDER,
	MILTER_RULE_RATE_DOMAIN,
	MILTER_RULE_RATE_LOGIN_RECIPIENTS,
	MILTER_RULE_RATE_CLIENT_IP_RECIPIENTS,
	MILTER_RULE_RATE_SENDER_RECIPIENTS,
	MILTER_RULE_RATE_DOMAIN_RECIPIENTS,
	MILTER_RULE_RATE_STORE,		/* the store failed, tempfail chosen */
	MILTER_RULE_COUNT
};

/* What the milter knows of a session, as Postfix told it. */
struct milter_facts {
	const char *daemon_name;	/* {daemon_name}; NULL = not sent */
	uint16_t port;			/* {daemon_port}; 0 = unknown (also
					   Postfix's "0" for local
					   submission) */
	bool client_known;		/* false for local submission */
	struct mp_addr client;
	const char *login;		/* {auth_authen}; NULL/"" = none */
	const char *auth_type;		/* {auth_type}; NULL/"" = not sent */
	const char *tls_version;	/* {tls_version}; NULL/"" = no TLS */
	const char *sender;		/* MAIL FROM without <>; "" = null */
	uint64_t size_param;		/* ESMTP SIZE=; 0 = not given */
};

struct milter_decision {
	enum mp_verdict verdict;
	/* with verdict ACCEPT: the message goes to Postfix's hold queue
	   (over_limit = hold) instead of on its way */
	bool hold;
	enum milter_rule rule;
	char rcode[4];			/* "553" */
	char xcode[8];			/* "5.7.1" */
	char text[320];			/* without codes; one line of
					   printable bytes (control
					   bytes become '?') */
};

/* The rule's name as it appears in logs and the audit header
   ("sender", "rate_login", ...; "none"). */
const char *milter_rule_name(enum milter_rule rule);
/* The rule of a rate key, and whether a rule is one. */
enum milter_rule milter_rate_rule(enum mp_limit_key key);
bool milter_rule_is_rate(enum milter_rule rule);
/* "accept", "reject", "tempfail" or "hold": what the milter did (or, in
   report mode, would do) with the message. */
const char *milter_decision_word(const struct milter_decision *d);

/* Parses {daemon_port}: 1-65535 in plain decimal, else 0. */
uint16_t milter_parse_port(const char *value);

/* The listener of a session (by {daemon_name}, then port); NULL when
   none matches: then milter_decide_unknown() says what to do. */
const struct mp_listener *
milter_listener(const struct mp_policy *policy,
		const struct milter_facts *facts);
void milter_decide_unknown(const struct mp_policy *policy,
			   const struct milter_facts *facts,
			   struct milter_decision *d);

/* At MAIL FROM: allowed_clients, auth, tls, min_tls, auth_mechanisms,
   sender (mp_listener_sender_allowed(), for an authenticated session),
   max_message_size against SIZE=. */
void milter_decide_mail(const struct mp_policy *policy,
			const struct mp_listener *listener,
			const struct milter_facts *facts,
			struct milter_decision *d);

/* At each RCPT TO: rcpt_count is the number of recipients including this
   one. */
void milter_decide_rcpt(const struct mp_listener *listener,
			uint64_t rcpt_count, struct milter_decision *d);

/* At end of message, for mail whose recipients cannot be refused one by
   one (local submission through Postfix's cleanup: it holds such mail as
   a configuration error): all rcpt_count recipients, refused for good. */
void milter_decide_recipients(const struct mp_listener *listener,
			      uint64_t rcpt_count, struct milter_decision *d);

/* At end of message: the real size in bytes. */
void milter_decide_size(const struct mp_listener *listener, uint64_t size,
			struct milter_decision *d);

/* ---- header_from = match_sender ----
   What the From headers of a message said, fed header by header (the
   milter keeps no copy of them), then judged at end of message. */
struct milter_from {
	unsigned int headers;		/* From headers seen */
	unsigned int addresses;		/* addresses in them */
	bool unparsable;		/* a From header is not an
					   RFC 5322 address list */
	/* the first address that failed the sender check ("" = none) */
	char bad[MILTER_VALUE_MAX];
	const char *bad_reason;		/* static: why it failed */
};

/* Whether the From headers of this session's messages are checked:
   header_from = match_sender on an authenticated session (the same
   sessions whose envelope sender is checked). */
bool milter_checks_header_from(const struct mp_listener *listener,
			       const struct milter_facts *facts);
/* Feeds the value of one From header (as the MTA passes it, folded or
   not) into *from: every address of it through the listener's sender
   check for facts->login. */
void milter_from_header(const struct mp_policy *policy,
			const struct mp_listener *listener,
			const struct milter_facts *facts, const char *value,
			struct milter_from *from);
/* At end of message: 553 5.7.1 unless exactly one From header with at
   least one address, each of which passed. */
void milter_decide_header_from(const struct mp_listener *listener,
			       const struct milter_facts *facts,
			       const struct milter_from *from,
			       struct milter_decision *d);

/* ---- rate limits ----
   One counter per window of each rate key that applies to the message
   (mp_listener_limits(): the listener's keys, its rate_map's entries),
   checked and counted in one mp_rate_check_items() call.  Counter keys
   (the Redis store prefixes them with "mprate:"):
     login/WINDOW/LOGIN            rate_login, every listener's
     login_rcpt/WINDOW/LOGIN       rate_login_recipients
     domain/WINDOW/DOMAIN          rate_domain
     domain_rcpt/WINDOW/DOMAIN     rate_domain_recipients
     LABEL/ip/WINDOW/ADDRESS       rate_client_ip, this listener's
     LABEL/ip_rcpt/WINDOW/ADDRESS  rate_client_ip_recipients
     LABEL/sender/WINDOW/ADDRESS   rate_sender
     LABEL/sender_rcpt/WINDOW/ADDRESS  rate_sender_recipients
   WINDOW as the policy writes durations ("1h", "90m"); LOGIN, DOMAIN and
   the sender lower-cased; an IPv6 client as its network
   ("2001:db8:1:2::/64", rate_client_ipv6_prefix); '/' and '%' in a label
   as %2F and %25.  Login and domain counters are shared by all
   listeners, so a mailbox's or a customer's cap holds whichever port
   the mail comes in on (each listener compares the shared count with
   its own limit); client and sender counters are per listener, since an
   address means another client on the MX than on a submission port. */
/* With its NUL; short enough that "alert/" + a key is a key too. */
#define MILTER_RATE_KEY_MAX (MP_RATE_MAX_KEY_LEN + 1 - 8)

struct milter_rate_batch {
	size_t count;
	struct mp_rate_item items[MP_LIMIT_MAX_ITEMS];
	/* per item: the rate key and window it counts, and the counted
	   value (inside keys[i]) */
	enum mp_limit_key key[MP_LIMIT_MAX_ITEMS];
	size_t window[MP_LIMIT_MAX_ITEMS];
	const char *value[MP_LIMIT_MAX_ITEMS];
	char keys[MP_LIMIT_MAX_ITEMS][MILTER_RATE_KEY_MAX];
	struct mp_limits limits;
};

/* Fills *batch with the items of a message with rcpts accepted
   recipients (the cost of the *_recipients keys; message keys cost 1).
   Returns the number of items (0: nothing to check).  A key whose
   subject is missing (no login, no domain, no client address) has no
   item. */
size_t milter_rate_batch(const struct mp_policy *policy,
			 const struct mp_listener *listener,
			 const struct milter_facts *facts, uint64_t rcpts,
			 struct milter_rate_batch *batch);

/* The decision after mp_rate_check_items() returned status for the
   batch: over a limit, the listener's over_limit (450 4.7.1 tempfail,
   550 5.7.1 reject, or hold); a store failure, failure_verdict
   (rate_store_failure: accept, or 451 4.3.0). */
void milter_decide_rate(const struct mp_listener *listener,
			enum mp_rate_status status,
			const struct milter_rate_batch *batch,
			enum mp_verdict failure_verdict,
			struct milter_decision *d);

#endif

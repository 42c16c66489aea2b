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
	MILTER_RULE_MAX_RECIPIENTS,
	MILTER_RULE_MAX_MESSAGE_SIZE,
	MILTER_RULE_RATE_LOGIN,
	MILTER_RULE_RATE_CLIENT_IP,
	MILTER_RULE_RATE_SENDER,
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
   sender, max_message_size against SIZE=. */
void milter_decide_mail(const struct mp_listener *listener,
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

/* Whether login may send as sender under listener's `sender` rule
   (login: the address itself or its plus-addressed forms; login_domain:
   any address of the login's domain; any: yes).  Local parts compare
   exactly, domains case-insensitively. */
bool milter_sender_allowed(enum mp_sender_check check, const char *login,
			   const char *sender);

/* Rate items for a message on listener, at most MILTER_RATE_ITEMS, with
   their keys written into keys[i]: "LABEL/login/LOGIN",
   "LABEL/ip/ADDR[/PREFIX]", "LABEL/sender/ADDR" (addresses lower-cased;
   IPv6 clients grouped by ipv6_prefix bits).  Returns the number of
   items; rules[i] is the rule each item stands for. */
#define MILTER_RATE_ITEMS 3
#define MILTER_RATE_KEY_MAX (MP_RATE_MAX_KEY_LEN + 1)
size_t milter_rate_items(const struct mp_listener *listener,
			 const struct milter_facts *facts,
			 unsigned int ipv6_prefix, uint64_t cost,
			 struct mp_rate_item *items,
			 char keys[][MILTER_RATE_KEY_MAX],
			 enum milter_rule *rules);

/* The decision after a rate check that returned status (items as
   filled by the store); failure_verdict is rate_store_failure. */
void milter_decide_rate(const struct mp_listener *listener,
			enum mp_rate_status status,
			const struct mp_rate_item *items,
			const enum milter_rule *rules, size_t count,
			enum mp_verdict failure_verdict,
			struct milter_decision *d);

#endif

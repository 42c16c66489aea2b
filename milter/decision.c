/* decision.c: the milter's answers as pure functions (see decision.h).
 *
 * Reply codes (RFC 5321, enhanced codes RFC 3463, AUTH RFC 4954):
 *   530 5.7.0  authentication required; STARTTLS required or too old
 *   534 5.7.9  AUTH mechanism not allowed on this listener
 *   550 5.7.1  authenticated mail on a no-auth listener; client address
 *              not allowed; unknown listener with `reject`
 *   553 5.7.1  sender not owned by the login
 *   452 4.5.3  too many recipients
 *   550 5.5.3  too many recipients, at end of message (local submission)
 *   552 5.3.4  message too big
 *   450 4.7.1  rate limited
 *   451 4.3.0  unknown listener with `tempfail`; rate store unavailable
 * Every text names the listener and the rule, so a user can quote it and
 * an admin can find it. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decision.h"

static const char *const rule_names[MILTER_RULE_COUNT] = {
	[MILTER_RULE_NONE] = "none",
	[MILTER_RULE_UNKNOWN_LISTENER] = "unknown_listener",
	[MILTER_RULE_AUTH] = "auth",
	[MILTER_RULE_TLS] = "tls",
	[MILTER_RULE_MIN_TLS] = "min_tls",
	[MILTER_RULE_AUTH_MECHANISMS] = "auth_mechanisms",
	[MILTER_RULE_ALLOWED_CLIENTS] = "allowed_clients",
	[MILTER_RULE_SENDER] = "sender",
	[MILTER_RULE_MAX_RECIPIENTS] = "max_recipients",
	[MILTER_RULE_MAX_MESSAGE_SIZE] = "max_message_size",
	[MILTER_RULE_RATE_LOGIN] = "rate_login",
	[MILTER_RULE_RATE_CLIENT_IP] = "rate_client_ip",
	[MILTER_RULE_RATE_SENDER] = "rate_sender",
	[MILTER_RULE_RATE_STORE] = "rate_store_failure",
};

const char *milter_rule_name(enum milter_rule rule)
{
	return (unsigned int)rule < MILTER_RULE_COUNT ? rule_names[rule] : "?";
}

static void accept_(struct milter_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->verdict = MP_VERDICT_ACCEPT;
	d->rule = MILTER_RULE_NONE;
}

static void __attribute__((format(printf, 5, 6)))
refuse(struct milter_decision *d, enum mp_verdict verdict,
       enum milter_rule rule, const char *codes, const char *fmt, ...)
{
	va_list args;

	d->verdict = verdict;
	d->rule = rule;
	/* codes: "553 5.7.1" */
	memcpy(d->rcode, codes, 3);
	d->rcode[3] = '\0';
	snprintf(d->xcode, sizeof(d->xcode), "%s", codes + 4);
	va_start(args, fmt);
	vsnprintf(d->text, sizeof(d->text), fmt, args);
	va_end(args);
	/* addresses and macros in the text come from the client: no CR/LF
	   (libmilter would refuse the reply) nor other control bytes */
	for (char *p = d->text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

uint16_t milter_parse_port(const char *value)
{
	unsigned int port = 0;

	if (empty(value) || strlen(value) > 5)
		return 0;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		port = port * 10 + (unsigned int)(*p - '0');
	}
	return port >= 1 && port <= 65535 ? (uint16_t)port : 0;
}

const struct mp_listener *
milter_listener(const struct mp_policy *policy,
		const struct milter_facts *facts)
{
	return mp_policy_listener_find(policy, empty(facts->daemon_name) ?
				       NULL : facts->daemon_name, facts->port);
}

void milter_decide_unknown(const struct mp_policy *policy,
			   const struct milter_facts *facts,
			   struct milter_decision *d)
{
	enum mp_verdict v = mp_policy_milter(policy)->unknown_listener;
	char where[96];

	accept_(d);
	if (v == MP_VERDICT_ACCEPT)
		return;
	/* both facts, so an admin sees which name to give a listener */
	if (facts->port != 0)
		snprintf(where, sizeof(where), "port %u", facts->port);
	else
		snprintf(where, sizeof(where), "port unknown");
	if (!empty(facts->daemon_name)) {
		size_t len = strlen(where);

		snprintf(where + len, sizeof(where) - len,
			 ", daemon name %.64s", facts->daemon_name);
	}
	if (v == MP_VERDICT_REJECT) {
		refuse(d, v, MILTER_RULE_UNKNOWN_LISTENER, "550 5.7.0",
		       "no mail policy for this port (%s): "
		       "unknown_listener = reject", where);
	} else {
		refuse(d, v, MILTER_RULE_UNKNOWN_LISTENER, "451 4.3.0",
		       "no mail policy for this port (%s): "
		       "unknown_listener = tempfail", where);
	}
}

/* "local@domain": the domain part (after the last '@'), or NULL. */
static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at != addr && at[1] != '\0' ? at + 1 : NULL;
}

bool milter_sender_allowed(enum mp_sender_check check, const char *login,
			   const char *sender)
{
	const char *ldom, *sdom, *plus;
	size_t llocal, slocal;

	if (check == MP_SENDER_ANY)
		return true;
	if (empty(login) || empty(sender))
		return false;
	sdom = domain_of(sender);
	ldom = domain_of(login);
	if (sdom == NULL || ldom == NULL || strcasecmp(sdom, ldom) != 0)
		return false;
	if (check == MP_SENDER_LOGIN_DOMAIN)
		return true;
	if (check != MP_SENDER_LOGIN)
		return false;	/* map: not decided here */
	llocal = (size_t)(ldom - 1 - login);
	slocal = (size_t)(sdom - 1 - sender);
	if (slocal == llocal && memcmp(sender, login, llocal) == 0)
		return true;
	/* local+tag@domain of an allowed local@domain */
	plus = memchr(sender, '+', slocal);
	return plus != NULL && (size_t)(plus - sender) == llocal &&
		memcmp(sender, login, llocal) == 0;
}

static bool client_allowed(const struct mp_listener *l,
			   const struct milter_facts *facts)
{
	if (l->allowed_client_count == 0)
		return true;
	if (!facts->client_known)
		return false;
	for (size_t i = 0; i < l->allowed_client_count; i++) {
		if (mp_cidr_match(&l->allowed_clients[i], &facts->client))
			return true;
	}
	return false;
}

static bool mechanism_allowed(const struct mp_listener *l, const char *type)
{
	if (l->auth_mechanism_count == 0 || empty(type))
		return true;
	for (size_t i = 0; i < l->auth_mechanism_count; i++) {
		if (strcasecmp(l->auth_mechanisms[i], type) == 0)
			return true;
	}
	return false;
}

void milter_decide_mail(const struct mp_listener *l,
			const struct milter_facts *f,
			struct milter_decision *d)
{
	bool authed = !empty(f->login), tls = !empty(f->tls_version);
	enum mp_tls_version version = MP_TLS_ANY;
	const char *error;

	accept_(d);
	if (!client_allowed(l, f)) {
		char addr[MP_ADDR_STR_SIZE] = "unknown";

		if (f->client_known)
			mp_addr_format(&f->client, addr, sizeof(addr));
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_ALLOWED_CLIENTS,
		       "550 5.7.1", "client %s not allowed on listener %s "
		       "(allowed_clients)", addr, l->label);
		return;
	}
	if (l->tls == MP_REQUIRE && !tls) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_TLS, "530 5.7.0",
		       "Must issue a STARTTLS command first "
		       "(listener %s: tls = require)", l->label);
		return;
	}
	if (tls && l->min_tls != MP_TLS_ANY &&
	    (mp_units_parse_tls_version(f->tls_version, &version,
					&error) < 0 || version < l->min_tls)) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_MIN_TLS, "530 5.7.0",
		       "TLS version %.40s is below the minimum %s "
		       "(listener %s: min_tls)", f->tls_version,
		       mp_units_tls_version_name(l->min_tls), l->label);
		return;
	}
	if (l->auth == MP_REQUIRE && !authed) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_AUTH, "530 5.7.0",
		       "Authentication required (listener %s: "
		       "auth = require)", l->label);
		return;
	}
	if (l->auth == MP_FORBID && authed) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_AUTH, "550 5.7.1",
		       "authenticated mail is not accepted here; submit on "
		       "the submission port (listener %s: auth = forbid)",
		       l->label);
		return;
	}
	if (authed && !mechanism_allowed(l, f->auth_type)) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_AUTH_MECHANISMS,
		       "534 5.7.9", "authentication mechanism %.40s not "
		       "allowed (listener %s: auth_mechanisms)",
		       f->auth_type, l->label);
		return;
	}
	if (authed && l->sender != MP_SENDER_ANY &&
	    !milter_sender_allowed(l->sender, f->login, f->sender)) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_SENDER, "553 5.7.1",
		       "sender <%.100s> not owned by %.100s (listener %s: "
		       "sender = %s)", f->sender != NULL ? f->sender : "",
		       f->login, l->label, mp_sender_check_name(l->sender));
		return;
	}
	if (l->max_message_size != 0 && f->size_param > l->max_message_size) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_MAX_MESSAGE_SIZE,
		       "552 5.3.4", "message size %llu exceeds the limit of "
		       "%llu bytes (listener %s: max_message_size)",
		       (unsigned long long)f->size_param,
		       (unsigned long long)l->max_message_size, l->label);
		return;
	}
}

void milter_decide_rcpt(const struct mp_listener *l, uint64_t rcpt_count,
			struct milter_decision *d)
{
	accept_(d);
	if (l->max_recipients != 0 && rcpt_count > l->max_recipients) {
		refuse(d, MP_VERDICT_TEMPFAIL, MILTER_RULE_MAX_RECIPIENTS,
		       "452 4.5.3", "Too many recipients: at most %llu per "
		       "message (listener %s: max_recipients)",
		       (unsigned long long)l->max_recipients, l->label);
	}
}

void milter_decide_recipients(const struct mp_listener *l,
			      uint64_t rcpt_count, struct milter_decision *d)
{
	accept_(d);
	if (l->max_recipients != 0 && rcpt_count > l->max_recipients) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_MAX_RECIPIENTS,
		       "550 5.5.3", "Too many recipients: %llu, at most %llu "
		       "per message (listener %s: max_recipients)",
		       (unsigned long long)rcpt_count,
		       (unsigned long long)l->max_recipients, l->label);
	}
}

void milter_decide_size(const struct mp_listener *l, uint64_t size,
			struct milter_decision *d)
{
	accept_(d);
	if (l->max_message_size != 0 && size > l->max_message_size) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_MAX_MESSAGE_SIZE,
		       "552 5.3.4", "message size %llu exceeds the limit of "
		       "%llu bytes (listener %s: max_message_size)",
		       (unsigned long long)size,
		       (unsigned long long)l->max_message_size, l->label);
	}
}

/* Appends src lower-cased (ASCII) to key at *len. */
static void key_append(char *key, size_t *len, const char *src, bool lower)
{
	for (; *src != '\0' && *len < MILTER_RATE_KEY_MAX - 1; src++) {
		char c = *src;

		if (lower && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		key[(*len)++] = c;
	}
	key[*len] = '\0';
}

static void rate_item(struct mp_rate_item *item, char *key,
		      const struct mp_listener *l, const char *kind,
		      const char *value, const struct mp_rate_spec *rate,
		      uint64_t cost)
{
	size_t len = 0;

	key[0] = '\0';
	key_append(key, &len, l->label, false);
	key_append(key, &len, "/", false);
	key_append(key, &len, kind, false);
	key_append(key, &len, "/", false);
	key_append(key, &len, value, true);
	memset(item, 0, sizeof(*item));
	item->key = key;
	item->rate = *rate;
	item->cost = cost;
}

size_t milter_rate_items(const struct mp_listener *l,
			 const struct milter_facts *f,
			 unsigned int ipv6_prefix, uint64_t cost,
			 struct mp_rate_item *items,
			 char keys[][MILTER_RATE_KEY_MAX],
			 enum milter_rule *rules)
{
	size_t n = 0;

	if (l->rate_login.count != 0 && !empty(f->login)) {
		rate_item(&items[n], keys[n], l, "login", f->login,
			  &l->rate_login, cost);
		rules[n++] = MILTER_RULE_RATE_LOGIN;
	}
	if (l->rate_client_ip.count != 0 && f->client_known) {
		struct mp_addr net = f->client;
		char addr[MP_ADDR_STR_SIZE + 8];

		if (net.family == 6 && ipv6_prefix < 128) {
			/* one key per /ipv6_prefix network: a client cannot
			   rotate addresses inside its own network */
			for (unsigned int bit = ipv6_prefix; bit < 128; bit++)
				net.bytes[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
			mp_addr_format(&net, addr, MP_ADDR_STR_SIZE);
			snprintf(addr + strlen(addr), 8, "/%u", ipv6_prefix);
		} else {
			mp_addr_format(&net, addr, MP_ADDR_STR_SIZE);
		}
		rate_item(&items[n], keys[n], l, "ip", addr,
			  &l->rate_client_ip, cost);
		rules[n++] = MILTER_RULE_RATE_CLIENT_IP;
	}
	if (l->rate_sender.count != 0) {
		rate_item(&items[n], keys[n], l, "sender",
			  f->sender != NULL ? f->sender : "",
			  &l->rate_sender, cost);
		rules[n++] = MILTER_RULE_RATE_SENDER;
	}
	return n;
}

void milter_decide_rate(const struct mp_listener *l,
			enum mp_rate_status status,
			const struct mp_rate_item *items,
			const enum milter_rule *rules, size_t count,
			enum mp_verdict failure_verdict,
			struct milter_decision *d)
{
	char rate[48];

	accept_(d);
	if (status == MP_RATE_ALLOWED)
		return;
	if (status == MP_RATE_FAILED) {
		if (failure_verdict == MP_VERDICT_ACCEPT)
			return;
		refuse(d, MP_VERDICT_TEMPFAIL, MILTER_RULE_RATE_STORE,
		       "451 4.3.0", "rate limits cannot be checked now, try "
		       "again later (listener %s: rate_store_failure = "
		       "tempfail)", l->label);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		uint64_t secs;

		if (items[i].status != MP_RATE_LIMITED)
			continue;
		mp_units_format_rate(&items[i].rate, rate, sizeof(rate));
		secs = items[i].result.retry_after_ms == UINT64_MAX ? 0 :
			(items[i].result.retry_after_ms + 999) / 1000;
		refuse(d, MP_VERDICT_TEMPFAIL, rules[i], "450 4.7.1",
		       "rate limit reached, try again in %llu s "
		       "(listener %s: %s = %s)", (unsigned long long)secs,
		       l->label, milter_rule_name(rules[i]), rate);
		return;
	}
}

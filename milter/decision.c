/* decision.c: the milter's answers as pure functions (see decision.h).
 *
 * Reply codes (RFC 5321, enhanced codes RFC 3463, AUTH RFC 4954):
 *   530 5.7.0  authentication required; STARTTLS required or too old
 *   534 5.7.9  AUTH mechanism not allowed on this listener
 *   550 5.7.1  authenticated mail on a no-auth listener; client address
 *              not allowed; unknown listener with `reject`
 *   553 5.7.1  sender not owned by the login; a From header address not
 *              owned by it (header_from = match_sender)
 *   452 4.5.3  too many recipients
 *   550 5.5.3  too many recipients, at end of message (local submission)
 *   552 5.3.4  message too big
 *   450 4.7.1  rate limited (over_limit = tempfail)
 *   550 5.7.1  rate limited (over_limit = reject)
 *   451 4.3.0  unknown listener with `tempfail`; rate store unavailable
 * Every text names the listener and the rule, so a user can quote it and
 * an admin can find it. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
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
	[MILTER_RULE_HEADER_FROM] = "header_from",
	[MILTER_RULE_MAX_RECIPIENTS] = "max_recipients",
	[MILTER_RULE_MAX_MESSAGE_SIZE] = "max_message_size",
	[MILTER_RULE_RATE_STORE] = "rate_store_failure",
};

const char *milter_rule_name(enum milter_rule rule)
{
	if (milter_rule_is_rate(rule))
		return mp_limit_key_name((enum mp_limit_key)
					 (rule - MILTER_RULE_RATE_LOGIN));
	return (unsigned int)rule < MILTER_RULE_COUNT ? rule_names[rule] : "?";
}

enum milter_rule milter_rate_rule(enum mp_limit_key key)
{
	return (enum milter_rule)(MILTER_RULE_RATE_LOGIN + (unsigned int)key);
}

bool milter_rule_is_rate(enum milter_rule rule)
{
	return rule >= MILTER_RULE_RATE_LOGIN &&
		rule < MILTER_RULE_RATE_LOGIN + MP_LIMIT_KEY_COUNT;
}

const char *milter_decision_word(const struct milter_decision *d)
{
	if (d->hold)
		return "hold";
	return mp_verdict_name(d->verdict);
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

/* Whether MAIL FROM's address (without its <>) is what Postfix makes of
   it.  Postfix reads the argument as an RFC 822 address and queues the
   address it finds there: comments, a group around it, a source route
   or an unclosed quote are dropped, so the text after the last '@' need
   not be the domain it sends as ("alice+x:bob@evil.example;(@example.com"
   is bob@evil.example).  The sender rule compares text, so it takes
   only text without any of these: blanks, control bytes and the RFC 5322
   specials other than '@' and '.'. */
static bool plain_sender(const char *sender, const char **why_r)
{
	for (const unsigned char *p = (const unsigned char *)sender;
	     *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f ||
		    strchr("\"(),:;<>[\\]", *p) != NULL) {
			*why_r = "not a plain local@domain address";
			return false;
		}
	}
	return true;
}

void milter_decide_mail(const struct mp_policy *policy,
			const struct mp_listener *l,
			const struct milter_facts *f,
			struct milter_decision *d)
{
	bool authed = !empty(f->login), tls = !empty(f->tls_version);
	enum mp_tls_version version = MP_TLS_ANY;
	const char *error, *why = NULL;

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
	    (!mp_listener_sender_allowed(policy, l, f->login, f->sender,
					 &why) || !plain_sender(f->sender, &why))) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_SENDER, "553 5.7.1",
		       "sender <%.100s> not owned by %.100s (listener %s: "
		       "sender = %s: %s)", f->sender != NULL ? f->sender : "",
		       f->login, l->label, mp_sender_check_name(l->sender),
		       why);
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


/* ---- header_from ---- */

bool milter_checks_header_from(const struct mp_listener *l,
			       const struct milter_facts *f)
{
	return l != NULL && l->header_from == MP_HEADER_FROM_MATCH_SENDER &&
		!empty(f->login);
}

struct from_check {
	const struct mp_policy *policy;
	const struct mp_listener *listener;
	const struct milter_facts *facts;
	struct milter_from *from;
};

static void from_address(void *ctx, const char *address)
{
	struct from_check *fc = ctx;
	const char *why = NULL;

	fc->from->addresses++;
	if (fc->from->bad[0] != '\0')
		return;
	if (!mp_listener_sender_allowed(fc->policy, fc->listener,
					fc->facts->login, address, &why)) {
		snprintf(fc->from->bad, sizeof(fc->from->bad), "%s", address);
		fc->from->bad_reason = why;
	}
}

void milter_from_header(const struct mp_policy *policy,
			const struct mp_listener *l,
			const struct milter_facts *f, const char *value,
			struct milter_from *from)
{
	struct from_check fc = { policy, l, f, from };
	const char *error;

	from->headers++;
	if (address_list_parse(value != NULL ? value : "", from_address, &fc,
			       &error) < 0)
		from->unparsable = true;
}

void milter_decide_header_from(const struct mp_listener *l,
			       const struct milter_facts *f,
			       const struct milter_from *from,
			       struct milter_decision *d)
{
	accept_(d);
	if (!milter_checks_header_from(l, f))
		return;
	if (from->headers == 0) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_HEADER_FROM,
		       "553 5.7.1", "the message has no From header "
		       "(listener %s: header_from = match_sender)", l->label);
	} else if (from->headers > 1) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_HEADER_FROM,
		       "553 5.7.1", "the message has %u From headers, one "
		       "is allowed (listener %s: header_from = "
		       "match_sender)", from->headers, l->label);
	} else if (from->unparsable) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_HEADER_FROM,
		       "553 5.7.1", "the From header is not a valid address "
		       "list (listener %s: header_from = match_sender)",
		       l->label);
	} else if (from->bad[0] != '\0') {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_HEADER_FROM,
		       "553 5.7.1", "From header address <%.100s> not owned "
		       "by %.100s (listener %s: header_from = match_sender: "
		       "%s)", from->bad, f->login, l->label,
		       from->bad_reason != NULL ? from->bad_reason : "?");
	} else if (from->addresses == 0) {
		refuse(d, MP_VERDICT_REJECT, MILTER_RULE_HEADER_FROM,
		       "553 5.7.1", "the From header has no address "
		       "(listener %s: header_from = match_sender)", l->label);
	}
}

/* ---- rate limits ---- */

/* Appends n bytes of src to the key, lower-cased (ASCII) if asked, and
   with '/' and '%' escaped if asked (a listener label); false when the
   key would not fit. */
static bool key_put(struct milter_rate_batch *b, size_t *len,
		    const char *src, size_t n, bool lower, bool escape)
{
	char *key = b->keys[b->count];

	for (size_t i = 0; i < n; i++) {
		char c = src[i];

		if (escape && (c == '/' || c == '%')) {
			if (*len + 3 >= MILTER_RATE_KEY_MAX)
				return false;
			key[(*len)++] = '%';
			key[(*len)++] = '2';
			key[(*len)++] = c == '/' ? 'F' : '5';
			continue;
		}
		if (*len + 1 >= MILTER_RATE_KEY_MAX)
			return false;
		if (lower && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		key[(*len)++] = c;
	}
	key[*len] = '\0';
	return true;
}

static bool key_puts(struct milter_rate_batch *b, size_t *len,
		     const char *src)
{
	return key_put(b, len, src, strlen(src), false, false);
}

/* The key's kind in counter keys; login and domain kinds are shared by
   every listener. */
static const char *const kind_names[MP_LIMIT_KEY_COUNT] = {
	[MP_LIMIT_LOGIN] = "login",
	[MP_LIMIT_CLIENT_IP] = "ip",
	[MP_LIMIT_SENDER] = "sender",
	[MP_LIMIT_DOMAIN] = "domain",
	[MP_LIMIT_LOGIN_RECIPIENTS] = "login_rcpt",
	[MP_LIMIT_CLIENT_IP_RECIPIENTS] = "ip_rcpt",
	[MP_LIMIT_SENDER_RECIPIENTS] = "sender_rcpt",
	[MP_LIMIT_DOMAIN_RECIPIENTS] = "domain_rcpt",
};

/* The label part of a per-listener key when the label itself does not
   fit beside the value: "#" and 16 hex digits of its FNV-1a hash, so
   that every listener keeps a counter of its own. */
static void label_digest(const char *label, char out[18])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)label; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(out, 18, "#%016llx", (unsigned long long)h);
}

/* A kind (11 bytes at most), a window (31), a value (a session keeps
   MILTER_VALUE_MAX - 1 bytes; a client address fewer), three '/', a
   digest and its '/' always fit in a key. */
_Static_assert(11 + 31 + (MILTER_VALUE_MAX - 1) + 3 + 17 + 1 <
	       MILTER_RATE_KEY_MAX, "a rate key with a label digest fits");

/* Writes key k's window w for value into the next key: the label
   (escaped, or its digest), the kind, the window and the value.  False
   when it does not fit. */
static bool key_build(struct milter_rate_batch *b, const char *label,
		      bool escape, enum mp_limit_key k, const char *window,
		      const char *value, bool lower, size_t *value_at)
{
	size_t len = 0;

	if (label != NULL) {
		if (!key_put(b, &len, label, strlen(label), false, escape) ||
		    !key_puts(b, &len, "/"))
			return false;
	}
	if (!key_puts(b, &len, kind_names[k]) || !key_puts(b, &len, "/") ||
	    !key_puts(b, &len, window) || !key_puts(b, &len, "/"))
		return false;
	*value_at = len;
	return key_put(b, &len, value, strlen(value), lower, false);
}

/* Adds one item: key k's window w, counting value.  Every key fits: a
   label too long to stand beside the value (a 253-byte host name as
   {daemon_name} with a 319-byte sender) is replaced by its digest, never
   skipped, which would lift the limit. */
static void batch_add(struct milter_rate_batch *b, const struct mp_listener *l,
		      enum mp_limit_key k, size_t w, const char *value,
		      uint64_t cost)
{
	const struct mp_rate_spec *rate = &b->limits.limit[k]->windows[w];
	enum mp_limit_subject subject = mp_limit_key_subject(k);
	bool shared = subject == MP_LIMIT_SUBJECT_LOGIN ||
		subject == MP_LIMIT_SUBJECT_DOMAIN;
	bool lower = subject != MP_LIMIT_SUBJECT_CLIENT_IP;
	struct mp_rate_item *item = &b->items[b->count];
	char window[32], digest[18];
	size_t value_at = 0;

	mp_units_format_duration(rate->window_secs, window, sizeof(window));
	if (!key_build(b, shared ? NULL : l->label, true, k, window, value,
		       lower, &value_at)) {
		/* the rest fits beside a digest (see the assertion) */
		label_digest(l->label, digest);
		if (shared || !key_build(b, digest, false, k, window, value,
					 lower, &value_at))
			return;
	}
	memset(item, 0, sizeof(*item));
	item->key = b->keys[b->count];
	item->rate = *rate;
	item->cost = cost;
	b->key[b->count] = k;
	b->window[b->count] = w;
	b->value[b->count] = b->keys[b->count] + value_at;
	b->count++;
}

size_t milter_rate_batch(const struct mp_policy *policy,
			 const struct mp_listener *l,
			 const struct milter_facts *f, uint64_t rcpts,
			 struct milter_rate_batch *b)
{
	char client[MP_ADDR_STR_SIZE + 8] = "";
	const char *login = empty(f->login) ? NULL : f->login;

	b->count = 0;
	if (mp_listener_limits(policy, l, login, &b->limits) == 0)
		return 0;
	if (f->client_known) {
		struct mp_addr net;

		/* an IPv6 client counts as its network: it cannot rotate
		   addresses inside what its provider gave it */
		mp_addr_truncate(&f->client, l->rate_client_ipv6_prefix, &net);
		mp_addr_format(&net, client, MP_ADDR_STR_SIZE);
		if (net.family == 6 && l->rate_client_ipv6_prefix < 128)
			snprintf(client + strlen(client), 8, "/%u",
				 l->rate_client_ipv6_prefix);
	}
	for (unsigned int k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		enum mp_limit_key key = (enum mp_limit_key)k;
		const struct mp_limit *limit = b->limits.limit[k];
		const char *value = NULL;

		if (limit->window_count == 0)
			continue;
		switch (mp_limit_key_subject(key)) {
		case MP_LIMIT_SUBJECT_LOGIN:
			value = login;
			break;
		case MP_LIMIT_SUBJECT_CLIENT_IP:
			value = f->client_known ? client : NULL;
			break;
		case MP_LIMIT_SUBJECT_SENDER:
			value = f->sender != NULL ? f->sender : "";
			break;
		case MP_LIMIT_SUBJECT_DOMAIN:
			value = mp_login_domain(login);
			break;
		}
		if (value == NULL)
			continue;
		for (size_t w = 0; w < limit->window_count; w++)
			batch_add(b, l, key, w, value,
				  mp_limit_key_counts_recipients(key) ?
				  rcpts : 1);
	}
	return b->count;
}

void milter_decide_rate(const struct mp_listener *l,
			enum mp_rate_status status,
			const struct milter_rate_batch *b,
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
	for (size_t i = 0; i < b->count; i++) {
		const struct mp_rate_item *item = &b->items[i];
		enum milter_rule rule = milter_rate_rule(b->key[i]);
		uint64_t secs;

		if (item->status != MP_RATE_LIMITED)
			continue;
		mp_units_format_rate(&item->rate, rate, sizeof(rate));
		switch (l->over_limit) {
		case MP_OVER_LIMIT_TEMPFAIL:
			if (item->result.retry_after_ms == UINT64_MAX) {
				/* more recipients than the limit: no wait
				   ever lets it through, so the client
				   should not retry it for days */
				refuse(d, MP_VERDICT_REJECT, rule,
				       "550 5.7.1", "rate limit: the message "
				       "alone exceeds it (listener %s: %s = "
				       "%s)", l->label, milter_rule_name(rule),
				       rate);
				return;
			}
			secs = (item->result.retry_after_ms + 999) / 1000;
			refuse(d, MP_VERDICT_TEMPFAIL, rule, "450 4.7.1",
			       "rate limit reached, try again in %llu s "
			       "(listener %s: %s = %s)",
			       (unsigned long long)secs, l->label,
			       milter_rule_name(rule), rate);
			return;
		case MP_OVER_LIMIT_REJECT:
			refuse(d, MP_VERDICT_REJECT, rule, "550 5.7.1",
			       "rate limit reached (listener %s: %s = %s)",
			       l->label, milter_rule_name(rule), rate);
			return;
		case MP_OVER_LIMIT_HOLD:
			/* accepted, into the hold queue: the text is the
			   quarantine reason */
			refuse(d, MP_VERDICT_ACCEPT, rule, "250 2.0.0",
			       "rate limit reached (listener %s: %s = %s)",
			       l->label, milter_rule_name(rule), rate);
			d->hold = true;
			return;
		}
	}
}

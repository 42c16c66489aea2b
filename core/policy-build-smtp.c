/* policy-build-smtp.c: listener and milter blocks, the half of the
 * language that mailpolicy-milter reads.  Neither takes a selector and
 * nothing inherits: a listener's unset keys are built in.
 *
 * Decisions that are the language's, not the milter's:
 *   - a port belongs to at most one listener (else which one applies
 *     would depend on file order);
 *   - min_tls with tls = optional is allowed: plaintext sessions pass,
 *     a TLS session below min_tls does not;
 *   - contradictions within a block are errors: sender = map without
 *     sender_map and the reverse, and auth = forbid with any of
 *     sender = login/login_domain/map, auth_mechanisms or rate_login;
 *   - files named here (sender_map, hmac_key_file) must be absolute
 *     paths, since the milter changes directory when it daemonizes;
 *   - rate_store is "memory" or redis://HOST[:PORT][/DB], PORT
 *     defaulting to 6379 and DB to 0; HOST may be [IPv6]; nothing else
 *     (no user, password, query or trailing slash). */

#include <stdio.h>
#include <string.h>

#include "policy-private.h"

#define SASL_MECH_MAX_LEN 20		/* RFC 4422 3.1 */
#define REDIS_DEFAULT_PORT 6379
#define REDIS_MAX_DB 2147483647u

static const char *shown(const struct policy_token *token, char buf[80])
{
	return policy_quote(token->str, token->len, buf);
}

static int word_error(struct policy_errctx *ctx, const struct policy_token *key,
		      const struct policy_token *word, const char *error)
{
	char buf[80];

	return policy_error(ctx, word->line, word->col, "%s %s: %s", key->str,
			    shown(word, buf), error);
}

static int one_word(struct policy_errctx *ctx, const struct policy_token *key,
		    const struct policy_token *values, size_t count)
{
	const char *error;
	size_t bad;

	if (policy_one_word(count, &error, &bad) < 0)
		return word_error(ctx, key, &values[bad], error);
	return 0;
}

static int key_lookup(struct policy_errctx *ctx, struct policy_build_keys *keys,
		      const struct policy_token *key,
		      const char *(*names)(unsigned int), unsigned int count,
		      const char *section)
{
	char buf[80];
	int k;

	k = policy_name_lookup(names, count, key->str, key->len);
	if (k < 0) {
		return policy_error(ctx, key->line, key->col,
				    "unknown key %s in %s block",
				    shown(key, buf), section);
	}
	if (keys->line[k] != 0) {
		return policy_error(ctx, key->line, key->col,
				    "duplicate key %s (first at line %u)",
				    shown(key, buf), keys->line[k]);
	}
	keys->line[k] = key->line;
	keys->col[k] = key->col;
	return k;
}

static int absolute_path(struct policy_errctx *ctx,
			 const struct policy_token *key,
			 const struct policy_token *word)
{
	if (word->str[0] != '/')
		return word_error(ctx, key, word, "not an absolute path");
	return 0;
}

static int choice(struct policy_errctx *ctx, const struct policy_token *key,
		  const struct policy_token *values, size_t count,
		  const struct policy_choice *choice, unsigned int *value_r)
{
	const char *error;

	if (one_word(ctx, key, values, count) < 0)
		return -1;
	if (policy_parse_choice(choice, &values[0], value_r, &error) < 0)
		return word_error(ctx, key, &values[0], error);
	return 0;
}

/* ---- listener ---- */

void policy_listener_builtin(struct mp_listener *listener)
{
	memset(listener, 0, sizeof(*listener));
	listener->auth = MP_OPTIONAL;
	listener->tls = MP_OPTIONAL;
	listener->min_tls = MP_TLS_ANY;
	listener->sender = MP_SENDER_ANY;
}

static struct mp_listener *
listener_by_label(const struct mp_policy *policy, const char *label,
		  size_t len, uint64_t hash)
{
	struct mp_listener *listener;
	size_t pos = 0;

	while ((listener = policy_htable_next(&policy->labels, hash,
					      &pos)) != NULL) {
		if (strlen(listener->label) == len &&
		    memcmp(listener->label, label, len) == 0)
			return listener;
	}
	return NULL;
}

int policy_build_listener_open(struct mp_policy *policy,
			       struct policy_errctx *ctx,
			       const struct policy_token *label,
			       struct mp_listener **listener_r)
{
	struct mp_listener *listener, **array;
	uint64_t hash;
	char buf[80];

	if (label->len == 0) {
		return policy_error(ctx, label->line, label->col,
				    "empty listener label");
	}
	hash = policy_hash(&policy->hash_key, label->str, label->len,
			   label->len);
	listener = listener_by_label(policy, label->str, label->len, hash);
	if (listener != NULL) {
		return policy_error(ctx, label->line, label->col,
				    "duplicate listener %s (first at line %u)",
				    shown(label, buf), listener->line);
	}
	listener = policy_arena_alloc(&policy->arena, sizeof(*listener));
	if (listener == NULL)
		return policy_error_oom(ctx);
	policy_listener_builtin(listener);
	listener->label = policy_arena_strndup(&policy->arena, label->str,
					       label->len);
	if (listener->label == NULL)
		return policy_error_oom(ctx);
	listener->line = label->line;
	if (policy_htable_add(&policy->labels, &policy->arena, hash,
			      listener) < 0)
		return policy_error_oom(ctx);
	if (policy->listener_count == policy->listener_cap) {
		size_t cap = policy->listener_cap == 0 ? 8 :
			policy->listener_cap * 2;

		array = policy_arena_alloc(&policy->arena, cap * sizeof(*array));
		if (array == NULL)
			return policy_error_oom(ctx);
		if (policy->listener_count > 0) {
			memcpy(array, policy->listeners,
			       policy->listener_count * sizeof(*array));
		}
		policy->listeners = array;
		policy->listener_cap = cap;
	}
	policy->listeners[policy->listener_count++] = listener;
	*listener_r = listener;
	return 0;
}

static const struct mp_listener *
port_owner(const struct mp_policy *policy, uint16_t port)
{
	size_t i, j;

	for (i = 0; i < policy->listener_count; i++) {
		for (j = 0; j < policy->listeners[i]->port_count; j++) {
			if (policy->listeners[i]->ports[j] == port)
				return policy->listeners[i];
		}
	}
	return NULL;
}

static int assign_ports(struct mp_policy *policy, struct policy_errctx *ctx,
			struct mp_listener *listener, uint8_t *bitmap,
			const struct policy_token *key,
			const struct policy_token *values, size_t count)
{
	const struct mp_listener *owner;
	const char *error;
	uint16_t *ports, port;
	char buf[200];
	size_t i, j;

	ports = policy_arena_alloc(&policy->arena, count * sizeof(*ports));
	if (ports == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < count; i++) {
		if (mp_units_parse_port(values[i].str, &port, &error) < 0)
			return word_error(ctx, key, &values[i], error);
		for (j = 0; j < i; j++) {
			if (ports[j] == port) {
				return word_error(ctx, key, &values[i],
						  "listed twice");
			}
		}
		if ((bitmap[port / 8] & (1u << (port % 8))) != 0) {
			owner = port_owner(policy, port);
			snprintf(buf, sizeof(buf),
				 "already used by listener %.64s (line %u)",
				 owner != NULL ? owner->label : "?",
				 owner != NULL ? owner->line : 0);
			return word_error(ctx, key, &values[i], buf);
		}
		ports[i] = port;
	}
	/* Only now: port_owner() must not find this listener's own. */
	for (i = 0; i < count; i++)
		bitmap[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
	listener->ports = ports;
	listener->port_count = count;
	return 0;
}

static int assign_mechanisms(struct mp_policy *policy,
			     struct policy_errctx *ctx,
			     struct mp_listener *listener,
			     const struct policy_token *key,
			     const struct policy_token *values, size_t count)
{
	const char **mechs;
	char *mech;
	size_t i, j;

	mechs = policy_arena_alloc(&policy->arena, count * sizeof(*mechs));
	if (mechs == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < count; i++) {
		if (values[i].len == 0 || values[i].len > SASL_MECH_MAX_LEN) {
			return word_error(ctx, key, &values[i],
					  "a SASL mechanism name has 1 to 20 "
					  "characters");
		}
		mech = policy_arena_strndup(&policy->arena, values[i].str,
					    values[i].len);
		if (mech == NULL)
			return policy_error_oom(ctx);
		for (j = 0; j < values[i].len; j++) {
			char c = mech[j];

			if (c >= 'a' && c <= 'z')
				mech[j] = c - 'a' + 'A';
			else if (!((c >= 'A' && c <= 'Z') ||
				   (c >= '0' && c <= '9') || c == '-' ||
				   c == '_')) {
				return word_error(ctx, key, &values[i],
						  "invalid SASL mechanism name "
						  "(letters, digits, '-', '_')");
			}
		}
		for (j = 0; j < i; j++) {
			if (strcmp(mechs[j], mech) == 0) {
				return word_error(ctx, key, &values[i],
						  "listed twice");
			}
		}
		mechs[i] = mech;
	}
	listener->auth_mechanisms = mechs;
	listener->auth_mechanism_count = count;
	return 0;
}

static int assign_clients(struct mp_policy *policy, struct policy_errctx *ctx,
			  struct mp_listener *listener,
			  const struct policy_token *key,
			  const struct policy_token *values, size_t count)
{
	struct mp_cidr *cidrs;
	const char *error;
	size_t i;

	cidrs = policy_arena_alloc(&policy->arena, count * sizeof(*cidrs));
	if (cidrs == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < count; i++) {
		if (mp_cidr_parse(values[i].str, &cidrs[i], &error) < 0)
			return word_error(ctx, key, &values[i], error);
	}
	listener->allowed_clients = cidrs;
	listener->allowed_client_count = count;
	return 0;
}

int policy_build_listener_assign(struct mp_policy *policy,
				 struct policy_errctx *ctx,
				 struct mp_listener *listener,
				 struct policy_build_keys *keys,
				 uint8_t *port_bitmap,
				 const struct policy_token *key,
				 const struct policy_token *values,
				 size_t count)
{
	struct mp_rate_spec *rate;
	const char *error;
	unsigned int value;
	uint64_t number;
	int k;

	k = key_lookup(ctx, keys, key, policy_listener_key_name,
		       MP_LISTENER_KEY_COUNT, "listener");
	if (k < 0)
		return -1;
	switch ((enum mp_listener_key)k) {
	case MP_LISTENER_PORTS:
		if (assign_ports(policy, ctx, listener, port_bitmap, key,
				 values, count) < 0)
			return -1;
		break;
	case MP_LISTENER_AUTH:
		if (choice(ctx, key, values, count, &policy_choice_auth,
			   &value) < 0)
			return -1;
		listener->auth = value;
		break;
	case MP_LISTENER_TLS:
		if (choice(ctx, key, values, count, &policy_choice_tls,
			   &value) < 0)
			return -1;
		listener->tls = value;
		break;
	case MP_LISTENER_MIN_TLS:
		if (one_word(ctx, key, values, count) < 0)
			return -1;
		/* "any" is what explain prints for no minimum. */
		if (strcmp(values[0].str,
			   mp_units_tls_version_name(MP_TLS_ANY)) == 0)
			listener->min_tls = MP_TLS_ANY;
		else if (mp_units_parse_tls_version(values[0].str,
						    &listener->min_tls,
						    &error) < 0)
			return word_error(ctx, key, &values[0], error);
		break;
	case MP_LISTENER_AUTH_MECHANISMS:
		if (assign_mechanisms(policy, ctx, listener, key, values,
				      count) < 0)
			return -1;
		break;
	case MP_LISTENER_SENDER:
		if (choice(ctx, key, values, count, &policy_choice_sender,
			   &value) < 0)
			return -1;
		listener->sender = value;
		break;
	case MP_LISTENER_SENDER_MAP:
		if (one_word(ctx, key, values, count) < 0 ||
		    absolute_path(ctx, key, &values[0]) < 0)
			return -1;
		listener->sender_map = policy_arena_strndup(&policy->arena,
							    values[0].str,
							    values[0].len);
		if (listener->sender_map == NULL)
			return policy_error_oom(ctx);
		break;
	case MP_LISTENER_ALLOWED_CLIENTS:
		if (assign_clients(policy, ctx, listener, key, values,
				   count) < 0)
			return -1;
		break;
	case MP_LISTENER_MAX_RECIPIENTS:
		if (one_word(ctx, key, values, count) < 0)
			return -1;
		if (mp_units_parse_uint(values[0].str, 0, UINT32_MAX, &number,
					&error) < 0)
			return word_error(ctx, key, &values[0], error);
		listener->max_recipients = number;
		break;
	case MP_LISTENER_MAX_MESSAGE_SIZE:
		if (one_word(ctx, key, values, count) < 0)
			return -1;
		if (policy_parse_size(values[0].str, &number, &error) < 0)
			return word_error(ctx, key, &values[0], error);
		listener->max_message_size = number;
		break;
	case MP_LISTENER_RATE_LOGIN:
	case MP_LISTENER_RATE_CLIENT_IP:
	case MP_LISTENER_RATE_SENDER:
		rate = k == MP_LISTENER_RATE_LOGIN ? &listener->rate_login :
			k == MP_LISTENER_RATE_CLIENT_IP ?
			&listener->rate_client_ip : &listener->rate_sender;
		if (one_word(ctx, key, values, count) < 0)
			return -1;
		if (mp_units_parse_rate(values[0].str, rate, &error) < 0)
			return word_error(ctx, key, &values[0], error);
		break;
	case MP_LISTENER_KEY_COUNT:
		return -1;
	}
	listener->origin[k].scope = MP_ORIGIN_DEFAULT;
	listener->origin[k].selector = NULL;
	listener->origin[k].line = key->line;
	return 0;
}

int policy_build_listener_close(struct policy_errctx *ctx,
				const struct mp_listener *listener,
				const struct policy_build_keys *keys)
{
	const unsigned int *line = keys->line, *col = keys->col;

	if (listener->sender == MP_SENDER_MAP &&
	    line[MP_LISTENER_SENDER_MAP] == 0) {
		return policy_error(ctx, line[MP_LISTENER_SENDER],
				    col[MP_LISTENER_SENDER],
				    "sender = map needs sender_map = FILE");
	}
	if (line[MP_LISTENER_SENDER_MAP] != 0 &&
	    listener->sender != MP_SENDER_MAP) {
		return policy_error(ctx, line[MP_LISTENER_SENDER_MAP],
				    col[MP_LISTENER_SENDER_MAP],
				    "sender_map is only used with sender = map");
	}
	if (listener->auth != MP_FORBID)
		return 0;
	if (listener->sender != MP_SENDER_ANY) {
		return policy_error(ctx, line[MP_LISTENER_SENDER],
				    col[MP_LISTENER_SENDER],
				    "sender = %s needs a login, but auth = "
				    "forbid",
				    mp_sender_check_name(listener->sender));
	}
	if (line[MP_LISTENER_AUTH_MECHANISMS] != 0) {
		return policy_error(ctx, line[MP_LISTENER_AUTH_MECHANISMS],
				    col[MP_LISTENER_AUTH_MECHANISMS],
				    "auth_mechanisms conflicts with auth = "
				    "forbid");
	}
	if (line[MP_LISTENER_RATE_LOGIN] != 0) {
		return policy_error(ctx, line[MP_LISTENER_RATE_LOGIN],
				    col[MP_LISTENER_RATE_LOGIN],
				    "rate_login counts logins, but auth = "
				    "forbid");
	}
	return 0;
}

/* ---- milter ---- */

void policy_milter_builtin(struct mp_milter_settings *milter)
{
	memset(milter, 0, sizeof(*milter));
	milter->socket = "inet:8893@127.0.0.1";
	milter->unknown_listener = MP_VERDICT_TEMPFAIL;
	milter->mode = MP_MODE_ENFORCE;
	milter->audit_header = "X-Mailpolicy";
	milter->hmac_key_file = NULL;
	milter->rate_store = MP_RATE_STORE_MEMORY;
	milter->rate_store_url = "memory";
	milter->redis_port = REDIS_DEFAULT_PORT;
	milter->redis_db = 0;
	milter->rate_store_failure = MP_VERDICT_ACCEPT;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* libmilter's smfi_setconn() syntax. */
static const char *check_socket(const char *s)
{
	char port_buf[8];
	const char *at, *port;
	const char *error;
	uint16_t number;
	size_t len;

	if (starts_with(s, "unix:") || starts_with(s, "local:")) {
		if (strchr(s, ':')[1] != '/')
			return "needs an absolute path (unix:/PATH)";
		return NULL;
	}
	if (s[0] == '/')
		return NULL;
	if (!starts_with(s, "inet:") && !starts_with(s, "inet6:")) {
		return "unknown socket type (use unix:/PATH, inet:PORT@HOST "
			"or inet6:PORT@HOST)";
	}
	port = strchr(s, ':') + 1;
	at = strchr(port, '@');
	len = at == NULL ? strlen(port) : (size_t)(at - port);
	if (len == 0 || len >= sizeof(port_buf))
		return "invalid port (use inet:PORT@HOST)";
	memcpy(port_buf, port, len);
	port_buf[len] = '\0';
	if (mp_units_parse_port(port_buf, &number, &error) < 0)
		return error;
	if (at != NULL && at[1] == '\0')
		return "missing host after '@'";
	return NULL;
}

/* RFC 5322 field name: printable ASCII but ':'; "" = no header. */
static const char *check_header_name(const char *s, size_t len)
{
	size_t i;

	if (len > 76)
		return "header name longer than 76 characters";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c >= 127 || c == ':')
			return "invalid header name (printable ASCII without ':')";
	}
	return NULL;
}

static bool host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* "memory" or redis://HOST[:PORT][/DB]. */
static const char *parse_rate_store(struct mp_policy *policy, const char *s,
				    struct mp_milter_settings *m, bool *oom_r)
{
	const char *p, *host, *end, *error;
	char num[16];
	size_t host_len, len;
	uint64_t db;

	*oom_r = false;
	if (strcmp(s, "memory") == 0) {
		m->rate_store = MP_RATE_STORE_MEMORY;
		m->redis_host = NULL;
		return NULL;
	}
	if (!starts_with(s, "redis://"))
		return "unknown store (use memory or redis://HOST:PORT/DB)";
	p = s + strlen("redis://");
	if (*p == '[') {
		host = ++p;
		while (*p != ']' && *p != '\0') {
			if (!((*p >= '0' && *p <= '9') ||
			      (*p >= 'a' && *p <= 'f') ||
			      (*p >= 'A' && *p <= 'F') || *p == ':' ||
			      *p == '.'))
				return "invalid IPv6 address in brackets";
			p++;
		}
		if (*p != ']')
			return "missing ']' after the IPv6 address";
		host_len = (size_t)(p - host);
		p++;
	} else {
		host = p;
		while (host_char((unsigned char)*p))
			p++;
		host_len = (size_t)(p - host);
	}
	if (host_len == 0)
		return "missing host (use redis://HOST:PORT/DB)";
	m->redis_port = REDIS_DEFAULT_PORT;
	m->redis_db = 0;
	if (*p == ':') {
		end = p + 1 + strcspn(p + 1, "/");
		len = (size_t)(end - p - 1);
		if (len == 0 || len >= sizeof(num))
			return "invalid port (use redis://HOST:PORT/DB)";
		memcpy(num, p + 1, len);
		num[len] = '\0';
		if (mp_units_parse_port(num, &m->redis_port, &error) < 0)
			return error;
		p = end;
	}
	if (*p == '/') {
		len = strlen(p + 1);
		if (len == 0 || len >= sizeof(num))
			return "invalid database number (use redis://HOST:PORT/DB)";
		memcpy(num, p + 1, len + 1);
		if (mp_units_parse_uint(num, 0, REDIS_MAX_DB, &db, &error) < 0)
			return error;
		m->redis_db = (unsigned int)db;
		p += 1 + len;
	}
	if (*p != '\0')
		return "unexpected characters after the host (use "
			"redis://HOST:PORT/DB)";
	m->rate_store = MP_RATE_STORE_REDIS;
	m->redis_host = policy_arena_strndup(&policy->arena, host, host_len);
	if (m->redis_host == NULL) {
		*oom_r = true;
		return "out of memory";
	}
	return NULL;
}

int policy_build_milter_assign(struct mp_policy *policy,
			       struct policy_errctx *ctx,
			       struct policy_build_keys *keys,
			       const struct policy_token *key,
			       const struct policy_token *values,
			       size_t count)
{
	struct mp_milter_settings *m = &policy->milter;
	const char *error, **string = NULL;
	unsigned int value;
	bool oom;
	int k;

	k = key_lookup(ctx, keys, key, policy_milter_key_name,
		       MP_MILTER_KEY_COUNT, "milter");
	if (k < 0)
		return -1;
	switch ((enum mp_milter_key)k) {
	case MP_MILTER_SOCKET:
		if (one_word(ctx, key, values, count) < 0)
			return -1;
		if ((error = check_socket(values[0].str)) != NULL)
			return word_error(ctx, key, &values[0], error);
		string = &m->socket;
		break;
	case MP_MILTER_UNKNOWN_LISTENER:
		if (choice(ctx, key, values, count,
			   &policy_choice_unknown_listener, &value) < 0)
			return -1;
		m->unknown_listener = value;
		break;
	case MP_MILTER_MODE:
		if (choice(ctx, key, values, count, &policy_choice_mode,
			   &value) < 0)
			return -1;
		m->mode = value;
		break;
	case MP_MILTER_AUDIT_HEADER:
		if (one_word(ctx, key, values, count) < 0)
			return -1;
		error = check_header_name(values[0].str, values[0].len);
		if (error != NULL)
			return word_error(ctx, key, &values[0], error);
		string = &m->audit_header;
		break;
	case MP_MILTER_HMAC_KEY_FILE:
		if (one_word(ctx, key, values, count) < 0 ||
		    absolute_path(ctx, key, &values[0]) < 0)
			return -1;
		string = &m->hmac_key_file;
		break;
	case MP_MILTER_RATE_STORE:
		if (one_word(ctx, key, values, count) < 0)
			return -1;
		error = parse_rate_store(policy, values[0].str, m, &oom);
		if (oom)
			return policy_error_oom(ctx);
		if (error != NULL)
			return word_error(ctx, key, &values[0], error);
		string = &m->rate_store_url;
		break;
	case MP_MILTER_RATE_STORE_FAILURE:
		if (choice(ctx, key, values, count,
			   &policy_choice_store_failure, &value) < 0)
			return -1;
		m->rate_store_failure = value;
		break;
	case MP_MILTER_KEY_COUNT:
		return -1;
	}
	if (string != NULL) {
		*string = policy_arena_strndup(&policy->arena, values[0].str,
					       values[0].len);
		if (*string == NULL)
			return policy_error_oom(ctx);
	}
	m->origin[k].scope = MP_ORIGIN_DEFAULT;
	m->origin[k].selector = NULL;
	m->origin[k].line = key->line;
	return 0;
}

/* policy-build-milter.c: the milter block, mailpolicy-milter's own
 * settings.  One block at most, no selector, unset keys built in.
 *
 *   - socket is checked against libmilter's smfi_setconn() syntax
 *     (unix:/PATH, local:/PATH, /PATH, inet:PORT[@HOST],
 *     inet6:PORT[@HOST]);
 *   - audit_header is an RFC 5322 field name, or "" for none;
 *   - hmac_key_file must be an absolute path;
 *   - rate_store is "memory" or redis://HOST[:PORT][/DB], PORT
 *     defaulting to 6379 and DB to 0; HOST may be [IPv6]; nothing else
 *     (no user, password, query or trailing slash);
 *   - rate_store_failure cannot be reject: a store that does not answer
 *     is never a reason to refuse mail for good. */

#include <stdio.h>
#include <string.h>

#include "policy-private.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_MAX_DB 2147483647u

_Static_assert(MP_MILTER_KEY_COUNT <= 16, "see struct policy_build_keys");

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

	k = policy_key_lookup(ctx, keys, key, policy_milter_key_name,
		       MP_MILTER_KEY_COUNT, "milter");
	if (k < 0)
		return -1;
	switch ((enum mp_milter_key)k) {
	case MP_MILTER_SOCKET:
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		if ((error = check_socket(values[0].str)) != NULL)
			return policy_word_error(ctx, key, &values[0], error);
		string = &m->socket;
		break;
	case MP_MILTER_UNKNOWN_LISTENER:
		if (policy_choice_value(ctx, key, values, count,
			   &policy_choice_unknown_listener, &value) < 0)
			return -1;
		m->unknown_listener = value;
		break;
	case MP_MILTER_MODE:
		if (policy_choice_value(ctx, key, values, count, &policy_choice_mode,
			   &value) < 0)
			return -1;
		m->mode = value;
		break;
	case MP_MILTER_AUDIT_HEADER:
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		error = check_header_name(values[0].str, values[0].len);
		if (error != NULL)
			return policy_word_error(ctx, key, &values[0], error);
		string = &m->audit_header;
		break;
	case MP_MILTER_HMAC_KEY_FILE:
		if (policy_one_value(ctx, key, values, count) < 0 ||
		    policy_absolute_path(ctx, key, &values[0]) < 0)
			return -1;
		string = &m->hmac_key_file;
		break;
	case MP_MILTER_RATE_STORE:
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		error = parse_rate_store(policy, values[0].str, m, &oom);
		if (oom)
			return policy_error_oom(ctx);
		if (error != NULL)
			return policy_word_error(ctx, key, &values[0], error);
		string = &m->rate_store_url;
		break;
	case MP_MILTER_RATE_STORE_FAILURE:
		if (policy_choice_value(ctx, key, values, count,
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

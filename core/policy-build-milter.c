/* policy-build-milter.c: the milter block, mailpolicy-milter's own
 * settings.  One block at most, no selector, unset keys built in.
 *
 *   - socket is checked against libmilter's smfi_setconn() syntax
 *     (unix:/PATH, local:/PATH, /PATH, inet:PORT[@HOST],
 *     inet6:PORT[@HOST]);
 *   - audit_header is an RFC 5322 field name, or "" for none;
 *   - hmac_key_file and redis_password_file must be absolute paths;
 *   - rate_store is "memory", redis://[:PASSWORD@]HOST[:PORT][/DB]
 *     (PORT defaulting to 6379 and DB to 0; HOST may be [IPv6]) or
 *     unix://[:PASSWORD@]/PATH[?db=DB] for a Unix socket; no user name,
 *     no other query, no trailing slash.  In a password '%' starts an
 *     escape (%40 for '@', %25 for '%'), as in any URL.  The password
 *     is given once: in the URL or in redis_password_file;
 *   - every HOST goes through the one host check of host.c;
 *   - rate_store_failure cannot be reject: a store that does not answer
 *     is never a reason to refuse mail for good;
 *   - alert_command is an argv, never a shell line: an absolute path
 *     and its arguments (quoted when they hold blanks), at most 32
 *     words.  A hook for a hosting panel runs once per milter, so it is
 *     the milter's key, not a listener's; the milter passes the
 *     listener's label to it. */

#include <stdio.h>
#include <string.h>

#include "host.h"
#include "policy-private.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_MAX_DB 2147483647u
#define UNIX_PATH_MAX 107		/* sun_path holds 108 with the NUL */
#define URL_HIDDEN_PASSWORD "****"
#define ALERT_COMMAND_MAX_WORDS 32

_Static_assert(MP_MILTER_KEY_COUNT <= POLICY_BUILD_MAX_KEYS,
	       "see struct policy_build_keys");

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

/* A host of a socket or URL: a name or an address of the kinds allowed;
   with brackets_ipv6 "[IPv6]" too (URLs write an IPv6 host so). */
static const char *check_host(const char *s, size_t len, unsigned int allowed,
			      bool brackets_ipv6)
{
	const char *error;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (mp_host_check(s + 1, len - 2,
				  brackets_ipv6 ? MP_HOST_IPV6 : allowed,
				  &error) < 0)
			return error;
		return NULL;
	}
	if (mp_host_check(s, len, allowed, &error) < 0)
		return error;
	return NULL;
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
	if (at == NULL)
		return NULL;
	if (at[1] == '\0')
		return "missing host after '@'";
	if (starts_with(s, "inet6:"))
		return check_host(at + 1, strlen(at + 1),
				  MP_HOST_NAME | MP_HOST_IPV6, true);
	return check_host(at + 1, strlen(at + 1), MP_HOST_NAME | MP_HOST_IPV4,
			  false);
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

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* What a rate_store value says, before it goes into the settings. */
struct store_url {
	enum mp_rate_store_kind kind;
	const char *host;		/* into the value; NULL for a socket */
	size_t host_len;
	const char *socket;		/* into the value */
	size_t socket_len;
	uint16_t port;
	unsigned int db;
	char password[MP_POLICY_MAX_LINE];	/* decoded */
	size_t password_len;
	bool has_password;
	size_t password_at, password_end;	/* in the value, as written */
};

/* The ":PASSWORD@" at p, percent-decoded; *p moves past the '@'. */
static const char *parse_userinfo(const char *s, const char **p,
				  struct store_url *url)
{
	const char *at = strchr(*p, '@'), *q;
	int hi, lo;

	if (at == NULL)
		return NULL;
	if (**p != ':') {
		return "user names are not supported (Redis AUTH takes a "
			"password: redis://:PASSWORD@HOST)";
	}
	url->password_at = (size_t)(*p + 1 - s);
	url->password_end = (size_t)(at - s);
	for (q = *p + 1; q < at; q++) {
		unsigned char c = (unsigned char)*q;

		if (c == '%') {
			hi = hex_value(q[1]);
			lo = hi < 0 ? -1 : hex_value(q[2]);
			if (lo < 0)
				return "invalid %-escape in the password "
					"(%XX, e.g. %40 for '@')";
			c = (unsigned char)(hi * 16 + lo);
			if (c == 0)
				return "NUL byte in the password";
			q += 2;
		} else if (c == ' ' || c == '/' || c == '?' || c == '[' ||
			   c == ']' || c == '#') {
			return "escape '/', '?', '#', '[', ']' and spaces in the "
				"password as %XX";
		}
		url->password[url->password_len++] = (char)c;
	}
	if (url->password_len == 0)
		return "empty password (leave out ':@' for none)";
	url->has_password = true;
	*p = at + 1;
	return NULL;
}

/* Decimal digits s[0..len) in [0, max]. */
static const char *parse_number(const char *s, size_t len, uint64_t max,
				const char *what, uint64_t *value_r)
{
	char num[16];
	const char *error;

	if (len == 0 || len >= sizeof(num))
		return what;
	memcpy(num, s, len);
	num[len] = '\0';
	if (mp_units_parse_uint(num, 0, max, value_r, &error) < 0)
		return error;
	return NULL;
}

/* redis://[:PASSWORD@]HOST[:PORT][/DB] */
static const char *parse_redis_tcp(const char *s, const char *p,
				   struct store_url *url)
{
	const char *error, *end;
	uint64_t number;

	if ((error = parse_userinfo(s, &p, url)) != NULL)
		return error;
	url->host = p;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL)
			return "missing ']' after the IPv6 address";
		p = end + 1;
	} else {
		p += strcspn(p, ":/");
		if (*p == ':' && memchr(p + 1, ':', strcspn(p + 1, "/")) != NULL)
			return "write an IPv6 host in brackets "
				"(redis://[ADDR]:PORT/DB)";
	}
	url->host_len = (size_t)(p - url->host);
	if (url->host_len == 0)
		return "missing host (use redis://HOST:PORT/DB)";
	if (memchr(url->host, '@', url->host_len) != NULL)
		return "invalid host: it has an '@' (escape an '@' in the "
			"password as %40)";
	if ((error = check_host(url->host, url->host_len,
				MP_HOST_NAME | MP_HOST_IPV4, true)) != NULL)
		return error;
	if (url->host[0] == '[') {
		url->host++;
		url->host_len -= 2;
	}
	if (*p == ':') {
		char port[8];
		size_t len;

		end = p + 1 + strcspn(p + 1, "/");
		len = (size_t)(end - p - 1);
		if (len == 0 || len >= sizeof(port))
			return "invalid port (use redis://HOST:PORT/DB)";
		memcpy(port, p + 1, len);
		port[len] = '\0';
		if (mp_units_parse_port(port, &url->port, &error) < 0)
			return error;
		p = end;
	}
	if (*p == '/') {
		error = parse_number(p + 1, strlen(p + 1), REDIS_MAX_DB,
				     "invalid database number (use "
				     "redis://HOST:PORT/DB)", &number);
		if (error != NULL)
			return error;
		url->db = (unsigned int)number;
		p += strlen(p);
	}
	if (*p != '\0')
		return "unexpected characters after the host (use "
			"redis://HOST:PORT/DB)";
	url->kind = MP_RATE_STORE_REDIS;
	return NULL;
}

/* unix://[:PASSWORD@]/PATH[?db=DB] */
static const char *parse_redis_unix(const char *s, const char *p,
				    struct store_url *url)
{
	const char *error, *query;
	uint64_t number;

	if ((error = parse_userinfo(s, &p, url)) != NULL)
		return error;
	if (*p != '/')
		return "needs an absolute socket path (unix:///PATH)";
	query = strchr(p, '?');
	url->socket = p;
	url->socket_len = query == NULL ? strlen(p) : (size_t)(query - p);
	if (url->socket_len == 1)
		return "missing socket path (unix:///PATH)";
	if (url->socket_len > UNIX_PATH_MAX)
		return "socket path longer than 107 bytes";
	if (query != NULL) {
		if (!starts_with(query, "?db="))
			return "unknown query (only ?db=DB)";
		error = parse_number(query + 4, strlen(query + 4),
				     REDIS_MAX_DB, "invalid database number "
				     "(use ?db=DB)", &number);
		if (error != NULL)
			return error;
		url->db = (unsigned int)number;
	}
	url->kind = MP_RATE_STORE_REDIS;
	return NULL;
}

/* The value as written, but the password as URL_HIDDEN_PASSWORD: what
   explain prints and what a host may log. */
static const char *url_shown(struct mp_policy *policy, const char *s,
			     const struct store_url *url)
{
	size_t len = strlen(s), hidden = strlen(URL_HIDDEN_PASSWORD);
	char *copy;

	if (!url->has_password)
		return policy_arena_strndup(&policy->arena, s, len);
	copy = policy_arena_alloc(&policy->arena, len + hidden + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, s, url->password_at);
	memcpy(copy + url->password_at, URL_HIDDEN_PASSWORD, hidden);
	strcpy(copy + url->password_at + hidden, s + url->password_end);
	return copy;
}

/* An error about a rate_store value: the value is quoted with what
   stands between "://" (and a ':') and its last '@' hidden, since the
   error goes to the logs of every process that loads the policy, and a
   URL that does not parse is no reason to log its password. */
static int rate_store_error(struct policy_errctx *ctx,
			    const struct policy_token *key,
			    const struct policy_token *word, const char *error)
{
	char shown[MP_POLICY_MAX_LINE + sizeof(URL_HIDDEN_PASSWORD)];
	struct policy_token hidden = *word;
	const char *start = strstr(word->str, "://"), *at;

	if (start == NULL)
		return policy_word_error(ctx, key, word, error);
	start += 3;
	if (*start == ':')
		start++;
	at = strrchr(start, '@');
	if (at == NULL || at == start)
		return policy_word_error(ctx, key, word, error);
	snprintf(shown, sizeof(shown), "%.*s%s%s", (int)(start - word->str),
		 word->str, URL_HIDDEN_PASSWORD, at);
	hidden.str = shown;
	hidden.len = strlen(shown);
	return policy_word_error(ctx, key, &hidden, error);
}

/* "memory", redis://... or unix://...; fills m, or returns why not
   (*oom_r for "out of memory"). */
static const char *parse_rate_store(struct mp_policy *policy, const char *s,
				    struct mp_milter_settings *m, bool *oom_r)
{
	struct store_url url;
	const char *error;

	*oom_r = false;
	memset(&url, 0, sizeof(url));
	url.kind = MP_RATE_STORE_MEMORY;
	url.port = REDIS_DEFAULT_PORT;
	if (strcmp(s, "memory") == 0)
		error = NULL;
	else if (starts_with(s, "redis://"))
		error = parse_redis_tcp(s, s + strlen("redis://"), &url);
	else if (starts_with(s, "unix://"))
		error = parse_redis_unix(s, s + strlen("unix://"), &url);
	else
		error = "unknown store (use memory, redis://HOST:PORT/DB or "
			"unix:///PATH)";
	if (error != NULL)
		return error;

	m->rate_store = url.kind;
	m->redis_port = url.port;
	m->redis_db = url.db;
	m->redis_host = NULL;
	m->redis_socket = NULL;
	m->redis_password = NULL;
	if (url.host != NULL)
		m->redis_host = policy_arena_strndup(&policy->arena, url.host,
						     url.host_len);
	if (url.socket != NULL)
		m->redis_socket = policy_arena_strndup(&policy->arena,
						       url.socket,
						       url.socket_len);
	if (url.has_password)
		m->redis_password = policy_arena_strndup(&policy->arena,
							 url.password,
							 url.password_len);
	m->rate_store_url = url_shown(policy, s, &url);
	if ((url.host != NULL && m->redis_host == NULL) ||
	    (url.socket != NULL && m->redis_socket == NULL) ||
	    (url.has_password && m->redis_password == NULL) ||
	    m->rate_store_url == NULL) {
		*oom_r = true;
		return "out of memory";
	}
	return NULL;
}

static int assign_alert_command(struct mp_policy *policy,
				struct policy_errctx *ctx,
				struct mp_milter_settings *m,
				const struct policy_token *key,
				const struct policy_token *values,
				size_t count)
{
	const char **argv;
	size_t i;

	if (policy_absolute_path(ctx, key, &values[0]) < 0)
		return -1;
	if (count > ALERT_COMMAND_MAX_WORDS) {
		return policy_word_error(ctx, key,
					 &values[ALERT_COMMAND_MAX_WORDS],
					 "too many words (at most 32: the "
					 "command and its arguments)");
	}
	argv = policy_arena_alloc(&policy->arena, (count + 1) * sizeof(*argv));
	if (argv == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < count; i++) {
		argv[i] = policy_arena_strndup(&policy->arena, values[i].str,
					       values[i].len);
		if (argv[i] == NULL)
			return policy_error_oom(ctx);
	}
	argv[count] = NULL;
	m->alert_command = argv;
	m->alert_command_count = count;
	return 0;
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
			return rate_store_error(ctx, key, &values[0], error);
		break;
	case MP_MILTER_REDIS_PASSWORD_FILE:
		if (policy_one_value(ctx, key, values, count) < 0 ||
		    policy_absolute_path(ctx, key, &values[0]) < 0)
			return -1;
		string = &m->redis_password_file;
		break;
	case MP_MILTER_RATE_STORE_FAILURE:
		if (policy_choice_value(ctx, key, values, count,
			   &policy_choice_store_failure, &value) < 0)
			return -1;
		m->rate_store_failure = value;
		break;
	case MP_MILTER_ALERT_COMMAND:
		if (assign_alert_command(policy, ctx, m, key, values,
					 count) < 0)
			return -1;
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

int policy_build_milter_close(struct policy_errctx *ctx,
			      const struct mp_policy *policy,
			      const struct policy_build_keys *keys)
{
	const struct mp_milter_settings *m = &policy->milter;
	const unsigned int *line = keys->line, *col = keys->col;

	if (line[MP_MILTER_REDIS_PASSWORD_FILE] == 0)
		return 0;
	if (m->rate_store != MP_RATE_STORE_REDIS) {
		return policy_error(ctx, line[MP_MILTER_REDIS_PASSWORD_FILE],
				    col[MP_MILTER_REDIS_PASSWORD_FILE],
				    "redis_password_file is only used with a "
				    "redis rate_store");
	}
	if (m->redis_password != NULL) {
		return policy_error(ctx, line[MP_MILTER_REDIS_PASSWORD_FILE],
				    col[MP_MILTER_REDIS_PASSWORD_FILE],
				    "the rate_store URL has a password "
				    "already (give it once; a file only the "
				    "milter reads is the safer place)");
	}
	return 0;
}

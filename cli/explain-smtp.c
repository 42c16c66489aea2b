/* explain-smtp.c: the SMTP sections of `mailpolicy explain`: the
 * listener a session would get (matched as mailpolicy-milter matches:
 * {daemon_name} first, then {daemon_port}), with the rate limits a login
 * gets there (the listener's keys and its rate_map, as the milter asks
 * mp_listener_limits()), and the milter settings. */

#include <stdbool.h>
#include <string.h>

#include "print.h"
#include "explain.h"

#define NOTE_NO_LIMIT "no limit"

static int print_ports(FILE *out, const struct mp_listener *l)
{
	size_t i;
	int len = 0;

	for (i = 0; i < l->port_count; i++)
		len += fprintf(out, "%s%u", i == 0 ? "" : " ",
			       (unsigned int)l->ports[i]);
	return len;
}

static int print_words(FILE *out, const char *const *words, size_t count)
{
	size_t i;
	int len = 0;

	for (i = 0; i < count; i++) {
		if (i > 0)
			len += fprintf(out, " ");
		len += print_word(out, words[i]);
	}
	return len;
}

static int print_cidrs(FILE *out, const struct mp_cidr *cidrs, size_t count)
{
	size_t i;
	int len = 0;

	for (i = 0; i < count; i++) {
		if (i > 0)
			len += fprintf(out, " ");
		len += print_cidr(out, &cidrs[i]);
	}
	return len;
}

static int print_limit(FILE *out, const struct mp_limit *limit)
{
	struct mp_rate_spec none = { 0, 0 };
	size_t i;
	int len = 0;

	if (limit->window_count == 0)
		return print_rate(out, &none);
	for (i = 0; i < limit->window_count; i++) {
		if (i > 0)
			len += fprintf(out, " ");
		len += print_rate(out, &limit->windows[i]);
	}
	return len;
}

/* One listener key; sets *note_r for values with a special meaning. */
static int print_listener_value(FILE *out, const struct mp_listener *l,
				enum mp_listener_key key, const char **note_r)
{
	switch (key) {
	case MP_LISTENER_PORTS:
		return print_ports(out, l);
	case MP_LISTENER_AUTH:
		return fprintf(out, "%s", mp_requirement_name(l->auth));
	case MP_LISTENER_TLS:
		return fprintf(out, "%s", mp_requirement_name(l->tls));
	case MP_LISTENER_MIN_TLS:
		return fprintf(out, "%s", mp_units_tls_version_name(l->min_tls));
	case MP_LISTENER_AUTH_MECHANISMS:
		if (l->auth_mechanism_count == 0)
			*note_r = "any mechanism";
		return print_words(out, l->auth_mechanisms,
				   l->auth_mechanism_count);
	case MP_LISTENER_SENDER:
		return fprintf(out, "%s", mp_sender_check_name(l->sender));
	case MP_LISTENER_SENDER_MAP:
		if (l->sender_map == NULL) {
			*note_r = "not set";
			return 0;
		}
		return print_word(out, l->sender_map);
	case MP_LISTENER_HEADER_FROM:
		return fprintf(out, "%s", mp_header_from_name(l->header_from));
	case MP_LISTENER_ALLOWED_CLIENTS:
		if (l->allowed_client_count == 0)
			*note_r = "any client";
		return print_cidrs(out, l->allowed_clients,
				   l->allowed_client_count);
	case MP_LISTENER_MAX_RECIPIENTS:
		if (l->max_recipients == 0)
			*note_r = NOTE_NO_LIMIT;
		return print_uint(out, l->max_recipients);
	case MP_LISTENER_MAX_MESSAGE_SIZE:
		if (l->max_message_size == 0)
			*note_r = NOTE_NO_LIMIT;
		return print_size(out, l->max_message_size);
	case MP_LISTENER_RATE_LOGIN:
	case MP_LISTENER_RATE_CLIENT_IP:
	case MP_LISTENER_RATE_SENDER:
	case MP_LISTENER_RATE_DOMAIN:
	case MP_LISTENER_RATE_LOGIN_RECIPIENTS:
	case MP_LISTENER_RATE_CLIENT_IP_RECIPIENTS:
	case MP_LISTENER_RATE_SENDER_RECIPIENTS:
	case MP_LISTENER_RATE_DOMAIN_RECIPIENTS:
		return print_limit(out, &l->limits[key - MP_LISTENER_RATE_LOGIN]);
	case MP_LISTENER_RATE_CLIENT_IPV6_PREFIX:
		return fprintf(out, "%u", l->rate_client_ipv6_prefix);
	case MP_LISTENER_RATE_MAP:
		if (l->rate_map == NULL) {
			*note_r = "not set";
			return 0;
		}
		*note_r = "changes the rate_* keys per login: see --login";
		return print_word(out, l->rate_map);
	case MP_LISTENER_OVER_LIMIT:
		return fprintf(out, "%s", mp_over_limit_name(l->over_limit));
	case MP_LISTENER_ADD_AUDIT_HEADER:
		return fprintf(out, "%s", mp_bool_name(l->add_audit_header));
	case MP_LISTENER_KEY_COUNT:
		break;
	}
	return 0;
}

/* The "# ORIGIN" of an effective limit: the listener's line, or the
   rate_map entry's file, line and name. */
static void print_limit_origin(FILE *out, int value_len,
			       const struct mp_listener *l,
			       const struct mp_limit_origin *origin)
{
	struct mp_origin listener_origin = { MP_ORIGIN_BUILTIN, NULL, 0 };

	switch (origin->source) {
	case MP_LIMIT_FROM_BUILTIN:
	case MP_LIMIT_FROM_LISTENER:
		if (origin->source == MP_LIMIT_FROM_LISTENER) {
			listener_origin.scope = MP_ORIGIN_DEFAULT;
			listener_origin.line = origin->line;
		}
		print_origin(out, value_len, &listener_origin, "listener",
			     l->label, NULL);
		return;
	case MP_LIMIT_FROM_DOMAIN_ENTRY:
	case MP_LIMIT_FROM_LOGIN_ENTRY:
		break;
	}
	fprintf(out, "%*s # %s ", value_len < PRINT_VALUE_WIDTH ?
		PRINT_VALUE_WIDTH - value_len : 0, "",
		mp_listener_key_name(MP_LISTENER_RATE_MAP));
	print_word(out, origin->file != NULL ? origin->file : "");
	fprintf(out, " (line %u), %s ", origin->line,
		mp_limit_source_name(origin->source));
	print_word(out, origin->entry != NULL ? origin->entry : "");
	putc('\n', out);
}

static void print_no_listener(FILE *out, const struct mp_policy *policy,
			      const char *name, uint16_t port)
{
	const struct mp_milter_settings *milter = mp_policy_milter(policy);

	fputs("no listener ", out);
	if (name != NULL) {
		fputs("named ", out);
		print_word(out, name);
		if (port != 0)
			fputs(" or ", out);
	}
	if (port != 0)
		fprintf(out, "for port %u", (unsigned int)port);
	fprintf(out, "; milter %s = %s applies%s\n",
		mp_milter_key_name(MP_MILTER_UNKNOWN_LISTENER),
		mp_verdict_name(milter->unknown_listener),
		milter->mode == MP_MODE_REPORT &&
		milter->unknown_listener != MP_VERDICT_ACCEPT ?
		" (mode = report: logged, the mail is accepted)" : "");
}

void explain_listener(FILE *out, const struct mp_policy *policy,
		      const char *name, uint16_t port, const char *login)
{
	const struct mp_listener *l;
	struct mp_limits limits;
	const char *note;
	int width = 0, len, k;

	l = mp_policy_listener_find(policy, name, port);
	if (l == NULL) {
		print_no_listener(out, policy, name, port);
		return;
	}
	fputs("listener ", out);
	print_word(out, l->label);
	fprintf(out, " (line %u), matched by ", l->line);
	if (name != NULL && strcmp(l->label, name) == 0)
		fputs("name", out);
	else
		fprintf(out, "port %u", (unsigned int)port);
	if (login != NULL) {
		fputs(", for login ", out);
		print_word(out, login);
	}
	fputs(":\n", out);
	mp_listener_limits(policy, l, login, &limits);

	for (k = 0; k < MP_LISTENER_KEY_COUNT; k++)
		print_widen(&width, mp_listener_key_name(k));
	for (k = 0; k < MP_LISTENER_KEY_COUNT; k++) {
		note = NULL;
		print_key(out, 2, width, mp_listener_key_name(k));
		if (login != NULL && k >= MP_LISTENER_RATE_LOGIN &&
		    k <= MP_LISTENER_RATE_DOMAIN_RECIPIENTS) {
			len = print_limit(out, limits.limit[k -
						MP_LISTENER_RATE_LOGIN]);
			print_limit_origin(out, len, l, &limits.origin[k -
						MP_LISTENER_RATE_LOGIN]);
			continue;
		}
		len = print_listener_value(out, l, k, &note);
		if (login != NULL && k == MP_LISTENER_RATE_MAP &&
		    l->rate_map != NULL)
			note = "applied above";
		print_origin(out, len, &l->origin[k], "listener", l->label, note);
	}
}

/* One milter key; sets *note_r for values with a special meaning. */
static int print_milter_value(FILE *out, const struct mp_milter_settings *m,
			      enum mp_milter_key key, const char **note_r)
{
	switch (key) {
	case MP_MILTER_SOCKET:
		return print_word(out, m->socket != NULL ? m->socket : "");
	case MP_MILTER_UNKNOWN_LISTENER:
		return fprintf(out, "%s", mp_verdict_name(m->unknown_listener));
	case MP_MILTER_MODE:
		return fprintf(out, "%s", mp_milter_mode_name(m->mode));
	case MP_MILTER_AUDIT_HEADER:
		if (m->audit_header == NULL || m->audit_header[0] == '\0') {
			*note_r = "no header";
			return print_word(out, "");
		}
		return print_word(out, m->audit_header);
	case MP_MILTER_HMAC_KEY_FILE:
		if (m->hmac_key_file == NULL) {
			*note_r = "not set: no HMAC";
			return 0;
		}
		return print_word(out, m->hmac_key_file);
	case MP_MILTER_RATE_STORE:
		if (m->rate_store_url == NULL)
			return 0;
		if (m->redis_password != NULL)
			*note_r = "password hidden";
		return print_word(out, m->rate_store_url);
	case MP_MILTER_RATE_STORE_FAILURE:
		return fprintf(out, "%s", mp_verdict_name(m->rate_store_failure));
	case MP_MILTER_REDIS_PASSWORD_FILE:
		if (m->redis_password_file == NULL) {
			*note_r = m->redis_password != NULL ?
				"not set: password in rate_store" :
				"not set: no Redis AUTH";
			return 0;
		}
		return print_word(out, m->redis_password_file);
	case MP_MILTER_ALERT_COMMAND:
		if (m->alert_command == NULL) {
			*note_r = "not set: no command on a trip";
			return 0;
		}
		return print_words(out, m->alert_command,
				   m->alert_command_count);
	case MP_MILTER_KEY_COUNT:
		break;
	}
	return 0;
}

void explain_milter(FILE *out, const struct mp_policy *policy)
{
	const struct mp_milter_settings *m = mp_policy_milter(policy);
	const char *note;
	int width = 0, len, k;

	fputs("milter:\n", out);
	if (!mp_policy_has_milter(policy))
		fputs("  # no milter block: built-in defaults\n", out);
	for (k = 0; k < MP_MILTER_KEY_COUNT; k++)
		print_widen(&width, mp_milter_key_name(k));
	for (k = 0; k < MP_MILTER_KEY_COUNT; k++) {
		note = NULL;
		print_key(out, 2, width, mp_milter_key_name(k));
		len = print_milter_value(out, m, k, &note);
		print_origin(out, len, &m->origin[k], "milter", NULL, note);
	}
}

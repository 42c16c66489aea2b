/* policy-names.c: the words of the policy language.
 *
 * Every key name and enum word appears exactly once, here: the parser
 * looks words up in these tables and `mailpolicy explain`, the logs and
 * the man page tests print from them, so the language cannot say one
 * thing and the printers another. */

#include <string.h>

#include "policy-private.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE_NAME(table, value) \
	((unsigned int)(value) < N_ELEMENTS(table) ? table[value] : "?")

static const char *const origin_scope_names[] = {
	[MP_ORIGIN_BUILTIN] = "built-in",
	[MP_ORIGIN_DEFAULT] = "default",
	[MP_ORIGIN_DOMAIN] = "domain",
	[MP_ORIGIN_USER] = "user",
	[MP_ORIGIN_OVERRIDE] = "override",
};

static const char *const section_names[] = {
	[POLICY_SECTION_POP3_RETENTION] = "pop3_retention",
	[POLICY_SECTION_FOLDER_QUOTA] = "folder_quota",
	[POLICY_SECTION_LISTENER] = "listener",
	[POLICY_SECTION_MILTER] = "milter",
	[POLICY_SECTION_FOLDER] = "folder",
};

static const char *const retention_key_names[] = {
	[MP_RETENTION_KEEP_AFTER_RETRIEVAL] = "keep_after_retrieval",
	[MP_RETENTION_ON_DELE] = "on_dele",
	[MP_RETENTION_ON_RETRIEVE] = "on_retrieve",
	[MP_RETENTION_MAX_RETAINED_SIZE] = "max_retained_size",
};

static const char *const folder_key_names[] = {
	[MP_FOLDER_STORAGE] = "storage",
	[MP_FOLDER_MESSAGES] = "messages",
	[MP_FOLDER_SCOPE] = "scope",
	[MP_FOLDER_WHEN_FULL] = "when_full",
};

static const char *const listener_key_names[] = {
	[MP_LISTENER_PORTS] = "ports",
	[MP_LISTENER_AUTH] = "auth",
	[MP_LISTENER_TLS] = "tls",
	[MP_LISTENER_MIN_TLS] = "min_tls",
	[MP_LISTENER_AUTH_MECHANISMS] = "auth_mechanisms",
	[MP_LISTENER_SENDER] = "sender",
	[MP_LISTENER_SENDER_MAP] = "sender_map",
	[MP_LISTENER_HEADER_FROM] = "header_from",
	[MP_LISTENER_ALLOWED_CLIENTS] = "allowed_clients",
	[MP_LISTENER_MAX_RECIPIENTS] = "max_recipients",
	[MP_LISTENER_MAX_MESSAGE_SIZE] = "max_message_size",
	[MP_LISTENER_RATE_LOGIN] = "rate_login",
	[MP_LISTENER_RATE_CLIENT_IP] = "rate_client_ip",
	[MP_LISTENER_RATE_SENDER] = "rate_sender",
	[MP_LISTENER_RATE_DOMAIN] = "rate_domain",
	[MP_LISTENER_RATE_LOGIN_RECIPIENTS] = "rate_login_recipients",
	[MP_LISTENER_RATE_CLIENT_IP_RECIPIENTS] = "rate_client_ip_recipients",
	[MP_LISTENER_RATE_SENDER_RECIPIENTS] = "rate_sender_recipients",
	[MP_LISTENER_RATE_DOMAIN_RECIPIENTS] = "rate_domain_recipients",
	[MP_LISTENER_RATE_CLIENT_IPV6_PREFIX] = "rate_client_ipv6_prefix",
	[MP_LISTENER_RATE_MAP] = "rate_map",
	[MP_LISTENER_OVER_LIMIT] = "over_limit",
	[MP_LISTENER_ADD_AUDIT_HEADER] = "add_audit_header",
};

/* A limit key's name is its listener key's. */
#define LIMIT_LISTENER_KEY(k) (MP_LISTENER_RATE_LOGIN + (k))
_Static_assert(LIMIT_LISTENER_KEY(MP_LIMIT_CLIENT_IP) ==
	       MP_LISTENER_RATE_CLIENT_IP &&
	       LIMIT_LISTENER_KEY(MP_LIMIT_SENDER) == MP_LISTENER_RATE_SENDER &&
	       LIMIT_LISTENER_KEY(MP_LIMIT_DOMAIN) == MP_LISTENER_RATE_DOMAIN &&
	       LIMIT_LISTENER_KEY(MP_LIMIT_LOGIN_RECIPIENTS) ==
	       MP_LISTENER_RATE_LOGIN_RECIPIENTS &&
	       LIMIT_LISTENER_KEY(MP_LIMIT_CLIENT_IP_RECIPIENTS) ==
	       MP_LISTENER_RATE_CLIENT_IP_RECIPIENTS &&
	       LIMIT_LISTENER_KEY(MP_LIMIT_SENDER_RECIPIENTS) ==
	       MP_LISTENER_RATE_SENDER_RECIPIENTS &&
	       LIMIT_LISTENER_KEY(MP_LIMIT_DOMAIN_RECIPIENTS) ==
	       MP_LISTENER_RATE_DOMAIN_RECIPIENTS,
	       "enum mp_limit_key follows the rate keys of mp_listener_key");

static const char *const milter_key_names[] = {
	[MP_MILTER_SOCKET] = "socket",
	[MP_MILTER_UNKNOWN_LISTENER] = "unknown_listener",
	[MP_MILTER_MODE] = "mode",
	[MP_MILTER_AUDIT_HEADER] = "audit_header",
	[MP_MILTER_HMAC_KEY_FILE] = "hmac_key_file",
	[MP_MILTER_RATE_STORE] = "rate_store",
	[MP_MILTER_RATE_STORE_FAILURE] = "rate_store_failure",
	[MP_MILTER_REDIS_PASSWORD_FILE] = "redis_password_file",
	[MP_MILTER_ALERT_COMMAND] = "alert_command",
};

static const char *const dele_action_names[] = {
	[MP_DELE_EXPUNGE] = "expunge",
	[MP_DELE_DEFER] = "defer",
	[MP_DELE_HIDE] = "hide",
};

static const char *const retrieve_action_names[] = {
	[MP_RETRIEVE_NONE] = "none",
	[MP_RETRIEVE_SEEN] = "seen",
	[MP_RETRIEVE_MOVE] = "move",
};

static const char *const folder_scope_names[] = {
	[MP_FOLDER_SCOPE_FOLDER] = "folder",
	[MP_FOLDER_SCOPE_SUBTREE] = "subtree",
};

static const char *const when_full_names[] = {
	[MP_WHEN_FULL_REFUSE] = "refuse",
	[MP_WHEN_FULL_EXPUNGE_OLDEST] = "expunge_oldest",
};

static const char *const requirement_names[] = {
	[MP_REQUIRE] = "require",
	[MP_OPTIONAL] = "optional",
	[MP_FORBID] = "forbid",
};

static const char *const sender_check_names[] = {
	[MP_SENDER_ANY] = "any",
	[MP_SENDER_LOGIN] = "login",
	[MP_SENDER_LOGIN_DOMAIN] = "login_domain",
	[MP_SENDER_MAP] = "map",
};

static const char *const verdict_names[] = {
	[MP_VERDICT_ACCEPT] = "accept",
	[MP_VERDICT_REJECT] = "reject",
	[MP_VERDICT_TEMPFAIL] = "tempfail",
};

static const char *const milter_mode_names[] = {
	[MP_MODE_ENFORCE] = "enforce",
	[MP_MODE_REPORT] = "report",
};

static const char *const header_from_names[] = {
	[MP_HEADER_FROM_ANY] = "any",
	[MP_HEADER_FROM_MATCH_SENDER] = "match_sender",
};

static const char *const over_limit_names[] = {
	[MP_OVER_LIMIT_TEMPFAIL] = "tempfail",
	[MP_OVER_LIMIT_REJECT] = "reject",
	[MP_OVER_LIMIT_HOLD] = "hold",
};

/* yes first, as people say it: value 0 is yes. */
static const char *const bool_names[] = { "yes", "no" };

static const char *const limit_source_names[] = {
	[MP_LIMIT_FROM_BUILTIN] = "built-in",
	[MP_LIMIT_FROM_LISTENER] = "listener",
	[MP_LIMIT_FROM_DOMAIN_ENTRY] = "domain entry",
	[MP_LIMIT_FROM_LOGIN_ENTRY] = "login entry",
};

const char *mp_origin_scope_name(enum mp_origin_scope scope)
{
	return TABLE_NAME(origin_scope_names, scope);
}

const char *mp_retention_key_name(enum mp_retention_key key)
{
	return TABLE_NAME(retention_key_names, key);
}

const char *mp_folder_key_name(enum mp_folder_key key)
{
	return TABLE_NAME(folder_key_names, key);
}

const char *mp_listener_key_name(enum mp_listener_key key)
{
	return TABLE_NAME(listener_key_names, key);
}

const char *mp_milter_key_name(enum mp_milter_key key)
{
	return TABLE_NAME(milter_key_names, key);
}

const char *mp_dele_action_name(enum mp_dele_action action)
{
	return TABLE_NAME(dele_action_names, action);
}

const char *mp_retrieve_action_name(enum mp_retrieve_action action)
{
	return TABLE_NAME(retrieve_action_names, action);
}

const char *mp_folder_scope_name(enum mp_folder_scope scope)
{
	return TABLE_NAME(folder_scope_names, scope);
}

const char *mp_when_full_name(enum mp_when_full when_full)
{
	return TABLE_NAME(when_full_names, when_full);
}

const char *mp_requirement_name(enum mp_requirement requirement)
{
	return TABLE_NAME(requirement_names, requirement);
}

const char *mp_sender_check_name(enum mp_sender_check check)
{
	return TABLE_NAME(sender_check_names, check);
}

const char *mp_verdict_name(enum mp_verdict verdict)
{
	return TABLE_NAME(verdict_names, verdict);
}

const char *mp_milter_mode_name(enum mp_milter_mode mode)
{
	return TABLE_NAME(milter_mode_names, mode);
}

const char *mp_header_from_name(enum mp_header_from header_from)
{
	return TABLE_NAME(header_from_names, header_from);
}

const char *mp_over_limit_name(enum mp_over_limit over_limit)
{
	return TABLE_NAME(over_limit_names, over_limit);
}

const char *mp_bool_name(bool value)
{
	return bool_names[value ? 0 : 1];
}

const char *mp_limit_key_name(enum mp_limit_key key)
{
	if ((unsigned int)key >= MP_LIMIT_KEY_COUNT)
		return "?";
	return listener_key_names[LIMIT_LISTENER_KEY(key)];
}

const char *mp_limit_source_name(enum mp_limit_source source)
{
	return TABLE_NAME(limit_source_names, source);
}

const char *policy_section_name(enum policy_section section)
{
	return TABLE_NAME(section_names, section);
}

/* Untyped adapters, so one lookup routine serves every table. */
const char *policy_section_name_u(unsigned int v)
{ return TABLE_NAME(section_names, v); }
const char *policy_retention_key_name(unsigned int v)
{ return TABLE_NAME(retention_key_names, v); }
const char *policy_folder_key_name(unsigned int v)
{ return TABLE_NAME(folder_key_names, v); }
const char *policy_listener_key_name(unsigned int v)
{ return TABLE_NAME(listener_key_names, v); }
const char *policy_milter_key_name(unsigned int v)
{ return TABLE_NAME(milter_key_names, v); }
static const char *dele_name_u(unsigned int v)
{ return TABLE_NAME(dele_action_names, v); }
static const char *retrieve_name_u(unsigned int v)
{ return TABLE_NAME(retrieve_action_names, v); }
static const char *scope_name_u(unsigned int v)
{ return TABLE_NAME(folder_scope_names, v); }
static const char *when_full_name_u(unsigned int v)
{ return TABLE_NAME(when_full_names, v); }
static const char *requirement_name_u(unsigned int v)
{ return TABLE_NAME(requirement_names, v); }
static const char *sender_name_u(unsigned int v)
{ return TABLE_NAME(sender_check_names, v); }
static const char *verdict_name_u(unsigned int v)
{ return TABLE_NAME(verdict_names, v); }
static const char *mode_name_u(unsigned int v)
{ return TABLE_NAME(milter_mode_names, v); }
static const char *header_from_name_u(unsigned int v)
{ return TABLE_NAME(header_from_names, v); }
static const char *over_limit_name_u(unsigned int v)
{ return TABLE_NAME(over_limit_names, v); }
static const char *bool_name_u(unsigned int v)
{ return TABLE_NAME(bool_names, v); }

#define ALL(n) ((1u << (n)) - 1)

const struct policy_choice policy_choice_dele = {
	dele_name_u, N_ELEMENTS(dele_action_names), ALL(3),
	"unknown value (use expunge, defer DURATION or hide)"
};
const struct policy_choice policy_choice_retrieve = {
	retrieve_name_u, N_ELEMENTS(retrieve_action_names), ALL(3),
	"unknown value (use none, seen or move MAILBOX)"
};
const struct policy_choice policy_choice_scope = {
	scope_name_u, N_ELEMENTS(folder_scope_names), ALL(2),
	"unknown value (use folder or subtree)"
};
const struct policy_choice policy_choice_when_full = {
	when_full_name_u, N_ELEMENTS(when_full_names), ALL(2),
	"unknown value (use refuse or expunge_oldest)"
};
const struct policy_choice policy_choice_auth = {
	requirement_name_u, N_ELEMENTS(requirement_names), ALL(3),
	"unknown value (use require, optional or forbid)"
};
/* A listener cannot forbid TLS: STARTTLS is Postfix's to offer. */
const struct policy_choice policy_choice_tls = {
	requirement_name_u, N_ELEMENTS(requirement_names),
	(1u << MP_REQUIRE) | (1u << MP_OPTIONAL),
	"unknown value (use require or optional)"
};
const struct policy_choice policy_choice_sender = {
	sender_name_u, N_ELEMENTS(sender_check_names), ALL(4),
	"unknown value (use any, login, login_domain or map)"
};
const struct policy_choice policy_choice_unknown_listener = {
	verdict_name_u, N_ELEMENTS(verdict_names), ALL(3),
	"unknown value (use accept, reject or tempfail)"
};
const struct policy_choice policy_choice_mode = {
	mode_name_u, N_ELEMENTS(milter_mode_names), ALL(2),
	"unknown value (use enforce or report)"
};
/* A store failure is never a reason to reject mail for good. */
const struct policy_choice policy_choice_store_failure = {
	verdict_name_u, N_ELEMENTS(verdict_names),
	(1u << MP_VERDICT_ACCEPT) | (1u << MP_VERDICT_TEMPFAIL),
	"unknown value (use accept or tempfail)"
};

const struct policy_choice policy_choice_header_from = {
	header_from_name_u, N_ELEMENTS(header_from_names), ALL(2),
	"unknown value (use any or match_sender)"
};
const struct policy_choice policy_choice_over_limit = {
	over_limit_name_u, N_ELEMENTS(over_limit_names), ALL(3),
	"unknown value (use tempfail, reject or hold)"
};
const struct policy_choice policy_choice_bool = {
	bool_name_u, N_ELEMENTS(bool_names), ALL(2),
	"unknown value (use yes or no)"
};

int policy_name_lookup(const char *(*name)(unsigned int value),
		       unsigned int count, const char *s, size_t len)
{
	unsigned int i;
	const char *n;

	for (i = 0; i < count; i++) {
		n = name(i);
		if (strlen(n) == len && memcmp(n, s, len) == 0)
			return (int)i;
	}
	return -1;
}

int policy_choice_lookup(const struct policy_choice *choice, const char *s,
			 size_t len)
{
	int i = policy_name_lookup(choice->name, choice->count, s, len);

	if (i < 0 || (choice->allowed & (1u << i)) == 0)
		return -1;
	return i;
}

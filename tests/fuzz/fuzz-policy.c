/* fuzz-policy.c: libFuzzer target for the policy language
 * (core/policy-*.c).
 *
 * The input is a whole policy file.  A load either fails with an error
 * that names a place consistent with the input ("fuzz:LINE:COL: " with
 * LINE within the file and COL within the line limit, or "fuzz: ") and
 * is valid UTF-8 whatever bytes it quotes, or
 * succeeds, and then lookups run with users, folders and ports that
 * include hostile bytes taken from the input itself: every answer must
 * be internally consistent (roots are prefixes at separators, matches
 * come deepest first, listeners found by port own that port), and the
 * host-override setters and the user policy's userdb fields take the
 * same bytes. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailpolicy/policy.h"
#include "../../core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const uint8_t *data, size_t size,
			const struct mp_error *error)
{
	unsigned int line, col, lines = 1;
	char prefix[64];
	size_t i;

	/* messages quote the input: they must stay valid UTF-8 */
	if (mp_utf8_validate(error->text, strlen(error->text)) < 0)
		abort();
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (strncmp(error->text, "fuzz", 4) != 0) {
		/* about a file the input names (file:PATH, sender_map):
		   it says where the input names it */
		if (strstr(error->text, " (named at fuzz:") == NULL)
			abort();
		return;
	}
	if (error->line == 0) {
		if (strncmp(error->text, "fuzz: ", 6) != 0 || error->column != 0)
			abort();
		return;
	}
	line = error->line;
	col = error->column;
	if (line > lines || col == 0 || col > MP_POLICY_MAX_LINE + 2)
		abort();
	snprintf(prefix, sizeof(prefix), "fuzz:%u:%u: ", line, col);
	if (strncmp(error->text, prefix, strlen(prefix)) != 0)
		abort();
}

static void check_folder(const struct mp_policy *policy, const char *user,
			 const char *folder, char sep)
{
	struct mp_folder_match matches[8];
	struct mp_folder_rule rule;
	size_t n, i, len = strlen(folder);

	n = mp_policy_folder_match(policy, user, folder, sep, matches, 8);
	if (n > mp_policy_folder_rule_count(policy, user))
		abort();
	for (i = 0; i < n && i < 8; i++) {
		if (matches[i].root_len > len || matches[i].root_len == 0)
			abort();
		if (matches[i].root_len < len &&
		    folder[matches[i].root_len] != sep)
			abort();
		if (i > 0 && matches[i].root_len >= matches[i - 1].root_len)
			abort();
		if (!mp_policy_folder_rule(policy, user, matches[i].rule_index,
					   &rule) ||
		    strcmp(rule.pattern, matches[i].rule.pattern) != 0)
			abort();
	}
}

/* The userdb fields a plugin would feed, with the hostile bytes as
   values and as a folder rule; every answer stays consistent. */
static void check_user_policy(struct mp_policy *policy, const char *hostile)
{
	static const char *const fields[] = {
		"folder_quota_rule", "folder_quota_rule2",
		"pop3_retention_on_retrieve", "pop3_retention_on_dele",
		"pop3_retention_keep_after_retrieval",
		"pop3_retention_max_retained_size",
	};
	struct mp_folder_match matches[8];
	struct mp_user_policy *up;
	struct mp_retention retention;
	struct mp_folder_rule rule;
	const char *error;
	size_t i, n, count, len = strlen(hostile);
	int ret;

	if (mp_user_policy_new(NULL, policy, hostile, &up) < 0)
		abort();
	count = mp_user_policy_folder_rule_count(up);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		ret = mp_user_policy_set_field(up, fields[i], hostile, &error);
		if (ret < -1 || ret > 1 || (ret < 0 && error == NULL))
			abort();
	}
	/* a rule field naming a pattern made of the input */
	(void)mp_user_policy_set_field(up, "folder_quota_rule3", "x:storage=1K",
				       &error);
	if (mp_user_policy_folder_rule_count(up) < count ||
	    mp_user_policy_folder_rule_count(up) > 256)
		abort();
	(void)mp_user_policy_retention(up, &retention);
	if (retention.on_retrieve == MP_RETRIEVE_MOVE &&
	    retention.retrieve_mailbox == NULL)
		abort();
	n = mp_user_policy_folder_match(up, hostile, '.', matches, 8);
	for (i = 0; i < n && i < 8; i++) {
		if (matches[i].root_len > len || matches[i].root_len == 0 ||
		    !mp_user_policy_folder_rule(up, matches[i].rule_index,
						&rule) ||
		    strcmp(rule.pattern, matches[i].rule.pattern) != 0)
			abort();
	}
	mp_user_policy_free(&up);
}

/* The limits a login gets: consistent whatever the login. */
static void check_limits(const struct mp_policy *policy,
			 const struct mp_listener *listener, const char *login)
{
	struct mp_limits limits;
	size_t windows, sum = 0, i, j;
	unsigned int k;

	windows = mp_listener_limits(policy, listener, login, &limits);
	if (windows > MP_LIMIT_MAX_ITEMS)
		abort();
	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		const struct mp_limit *l = limits.limit[k];

		if (l == NULL || l->window_count > MP_LIMIT_MAX_WINDOWS)
			abort();
		sum += l->window_count;
		for (i = 0; i < l->window_count; i++) {
			if (l->windows[i].count == 0 ||
			    l->windows[i].count > MP_UNITS_RATE_MAX_COUNT ||
			    l->windows[i].window_secs == 0 ||
			    l->windows[i].window_secs >
			    MP_UNITS_RATE_MAX_WINDOW_SECS)
				abort();
			/* each length once, shorter ones smaller */
			for (j = 0; j < l->window_count; j++) {
				if (i != j && l->windows[i].window_secs <=
				    l->windows[j].window_secs &&
				    l->windows[i].count >=
				    l->windows[j].count)
					abort();
			}
		}
		switch (limits.origin[k].source) {
		case MP_LIMIT_FROM_BUILTIN:
			if (l->window_count != 0 || limits.origin[k].line != 0)
				abort();
			break;
		case MP_LIMIT_FROM_LISTENER:
			if (l != &listener->limits[k] ||
			    limits.origin[k].line == 0)
				abort();
			break;
		case MP_LIMIT_FROM_DOMAIN_ENTRY:
		case MP_LIMIT_FROM_LOGIN_ENTRY:
			/* only with a map, a login, and domain keys only
			   from a domain entry */
			if (listener->rate_map == NULL || login == NULL ||
			    login[0] == '\0' || limits.origin[k].entry == NULL ||
			    (limits.origin[k].source ==
			     MP_LIMIT_FROM_LOGIN_ENTRY &&
			     mp_limit_key_subject(k) == MP_LIMIT_SUBJECT_DOMAIN))
				abort();
			break;
		}
	}
	if (sum != windows || (windows > 0 &&
			       !mp_listener_has_limits(policy, listener)))
		abort();
}

static void check_lookups(struct mp_policy *policy,
			  const uint8_t *data, size_t size)
{
	static const char *const users[] = {
		"alice@example.com", "ceo@example.org", "CEO@EXAMPLE.ORG",
		"postmaster", "", "@", "a@b@c", "x@",
	};
	static const char *const folders[] = {
		"INBOX", "Archive/2024/Q1", "Projects/apollo", "a/b/c/d/e/f/g",
		"////", "inbox/x", "Trash",
	};
	const struct mp_listener *listener;
	struct mp_retention retention;
	struct mp_folder_rule rule;
	const char *error;
	char hostile[256];
	size_t i, j, n;
	uint16_t port;

	/* the last bytes of the input, as a user and as a folder name */
	n = size < sizeof(hostile) - 1 ? size : sizeof(hostile) - 1;
	memcpy(hostile, data + size - n, n);
	hostile[n] = '\0';

	for (i = 0; i <= sizeof(users) / sizeof(users[0]); i++) {
		const char *user = i < sizeof(users) / sizeof(users[0]) ?
			users[i] : hostile;

		if (mp_policy_retention(policy, user, &retention) &&
		    !mp_policy_has_retention(policy))
			abort();
		for (j = 0; j < MP_RETENTION_KEY_COUNT; j++) {
			if (!mp_policy_has_retention(policy) &&
			    retention.origin[j].scope != MP_ORIGIN_BUILTIN)
				abort();
		}
		if (retention.on_retrieve == MP_RETRIEVE_MOVE &&
		    retention.retrieve_mailbox == NULL)
			abort();
		for (j = 0; j < sizeof(folders) / sizeof(folders[0]); j++) {
			check_folder(policy, user, folders[j], '/');
			check_folder(policy, user, folders[j], '.');
		}
		check_folder(policy, user, hostile, '/');
		check_folder(policy, user, hostile, hostile[0]);
	}

	/* host overrides take the same hostile bytes */
	if (mp_retention_set(&retention, "on_retrieve", hostile, &error) == 0 &&
	    retention.on_retrieve == MP_RETRIEVE_MOVE &&
	    (retention.retrieve_mailbox < hostile ||
	     retention.retrieve_mailbox >= hostile + sizeof(hostile)))
		abort();
	(void)mp_retention_set(&retention, "on_dele", hostile, &error);
	(void)mp_retention_set(&retention, "keep_after_retrieval", hostile,
			       &error);
	if (mp_policy_folder_rule(policy, hostile, 0, &rule)) {
		(void)mp_folder_rule_set(&rule, "storage", hostile, &error);
		(void)mp_folder_rule_set(&rule, "scope", hostile, &error);
	}
	check_user_policy(policy, hostile);

	port = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 25;
	listener = mp_policy_listener_find(policy, NULL, port);
	if (listener != NULL) {
		for (i = 0; i < listener->port_count; i++) {
			if (listener->ports[i] == port)
				break;
		}
		if (i == listener->port_count)
			abort();
	}
	listener = mp_policy_listener_find(policy, hostile, 0);
	if (listener != NULL && strcmp(listener->label, hostile) != 0)
		abort();
	for (i = 0; i < mp_policy_listener_count(policy); i++) {
		const char *reason = NULL;
		bool allowed;

		listener = mp_policy_listener_at(policy, i);
		if (mp_policy_listener_find(policy, listener->label, 0) !=
		    listener)
			abort();
		/* the sender check with the hostile bytes as login and
		   sender: `any` allows all, a refusal gives a reason */
		allowed = mp_listener_sender_allowed(policy, listener, hostile,
						     hostile, &reason);
		if ((listener->sender == MP_SENDER_ANY && !allowed) ||
		    (!allowed && reason == NULL))
			abort();
		(void)mp_listener_sender_allowed(policy, listener,
						 "alice@example.com", hostile,
						 NULL);
		if (listener->rate_client_ipv6_prefix < 1 ||
		    listener->rate_client_ipv6_prefix > 128)
			abort();
		check_limits(policy, listener, hostile);
		check_limits(policy, listener, "alice@example.com");
		check_limits(policy, listener, NULL);
		if (listener->over_limit > MP_OVER_LIMIT_HOLD ||
		    listener->header_from > MP_HEADER_FROM_MATCH_SENDER ||
		    (listener->header_from == MP_HEADER_FROM_MATCH_SENDER &&
		     listener->sender == MP_SENDER_ANY))
			abort();
	}
	if (mp_policy_milter(policy)->socket == NULL)
		abort();
	{
		const struct mp_milter_settings *m = mp_policy_milter(policy);

		if ((m->alert_command == NULL) !=
		    (m->alert_command_count == 0) ||
		    (m->alert_command != NULL &&
		     (m->alert_command[0][0] != '/' ||
		      m->alert_command[m->alert_command_count] != NULL)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_policy *policy;
	struct mp_error error;

	if (mp_policy_load_string(NULL, "fuzz", (const char *)data, size,
				  &policy, &error) < 0) {
		check_error(data, size, &error);
		return 0;
	}
	check_lookups(policy, data, size);
	mp_policy_unref(&policy);
	return 0;
}

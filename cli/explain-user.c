/* explain-user.c: the per-user sections of `mailpolicy explain`:
 * pop3_retention and folder_quota, each value with the block (default,
 * domain, user) it came from, or "override" for a --userdb field, as the
 * plugins see them for the user. */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "print.h"
#include "explain.h"

#define NOTE_NO_LIMIT "no limit"

static void print_header(FILE *out, const char *section, const char *user)
{
	fprintf(out, "%s for ", section);
	print_word(out, user);
}

void explain_retention(FILE *out, const struct mp_user_policy *up)
{
	const char *user = mp_user_policy_user(up);
	struct mp_retention r;
	const char *note;
	bool applies;
	int width = 0, len, k;

	applies = mp_user_policy_retention(up, &r);
	for (k = 0; k < MP_RETENTION_KEY_COUNT; k++)
		print_widen(&width, mp_retention_key_name(k));

	print_header(out, "pop3_retention", user);
	fputs(":\n", out);
	if (!applies)
		fputs("  # no pop3_retention block applies: stock POP3 behaviour\n", out);
	for (k = 0; k < MP_RETENTION_KEY_COUNT; k++) {
		print_key(out, 2, width, mp_retention_key_name(k));
		note = NULL;
		switch ((enum mp_retention_key)k) {
		case MP_RETENTION_KEEP_AFTER_RETRIEVAL:
			len = print_duration(out, r.keep_after_retrieval);
			break;
		case MP_RETENTION_ON_DELE:
			len = fprintf(out, "%s", mp_dele_action_name(r.on_dele));
			if (r.on_dele == MP_DELE_DEFER) {
				len += fprintf(out, " ");
				len += print_duration(out, r.dele_defer_secs);
			}
			break;
		case MP_RETENTION_ON_RETRIEVE:
			len = fprintf(out, "%s",
				      mp_retrieve_action_name(r.on_retrieve));
			if (r.on_retrieve == MP_RETRIEVE_MOVE) {
				len += fprintf(out, " ");
				len += print_word(out, r.retrieve_mailbox != NULL ?
						  r.retrieve_mailbox : "");
			}
			break;
		case MP_RETENTION_MAX_RETAINED_SIZE:
			len = print_size(out, r.max_retained_size);
			if (r.max_retained_size == 0)
				note = NOTE_NO_LIMIT;
			break;
		default:
			len = 0;
			break;
		}
		print_origin(out, len, &r.origin[k], NULL, NULL, note);
	}
}

/* The keys of one merged folder rule, at indent 4. */
static void print_rule_values(FILE *out, const struct mp_folder_rule *rule)
{
	const char *note;
	int width = 0, len, k;

	for (k = 0; k < MP_FOLDER_KEY_COUNT; k++)
		print_widen(&width, mp_folder_key_name(k));
	for (k = 0; k < MP_FOLDER_KEY_COUNT; k++) {
		print_key(out, 4, width, mp_folder_key_name(k));
		note = NULL;
		switch ((enum mp_folder_key)k) {
		case MP_FOLDER_STORAGE:
			len = print_size(out, rule->storage);
			if (rule->storage == 0)
				note = NOTE_NO_LIMIT;
			break;
		case MP_FOLDER_MESSAGES:
			len = print_uint(out, rule->messages);
			if (rule->messages == 0)
				note = NOTE_NO_LIMIT;
			break;
		case MP_FOLDER_SCOPE:
			len = fprintf(out, "%s", mp_folder_scope_name(rule->scope));
			break;
		case MP_FOLDER_WHEN_FULL:
			len = fprintf(out, "%s",
				      mp_when_full_name(rule->when_full));
			break;
		default:
			len = 0;
			break;
		}
		print_origin(out, len, &rule->origin[k], NULL, NULL, note);
	}
}

void explain_folder_rules(FILE *out, const struct mp_user_policy *up)
{
	struct mp_folder_rule rule;
	size_t i, count;

	print_header(out, "folder_quota", mp_user_policy_user(up));
	fputs(":\n", out);
	count = mp_user_policy_folder_rule_count(up);
	if (count == 0)
		fputs("  # no folder_quota rule applies\n", out);
	for (i = 0; i < count; i++) {
		if (!mp_user_policy_folder_rule(up, i, &rule))
			break;
		fputs("  folder ", out);
		print_word(out, rule.pattern);
		fputs(":\n", out);
		print_rule_values(out, &rule);
	}
}

/* The IMAP quota root name, "Folder " and the governed folder, as an
   IMAP quoted string. */
static void print_quota_root(FILE *out, const char *folder, size_t len)
{
	size_t i;

	fputs("\"Folder ", out);
	for (i = 0; i < len; i++) {
		if (folder[i] == '"' || folder[i] == '\\')
			putc('\\', out);
		putc(folder[i], out);
	}
	putc('"', out);
}

/* The folder as the plugin sees it.  Dovecot writes INBOX in upper case
   whatever case the client used, and the INBOX of a child's name too
   (mailbox_alloc()), before any plugin sees the name: `GETQUOTAROOT
   inbox` reports "Folder INBOX".  The children are rewritten only with
   "/": with another separator the name may be the one after a
   namespace prefix ("INBOX."), where a leading "Inbox." is a folder of
   its own.  Returns a malloc()ed copy, or NULL when out of memory. */
static char *folder_as_dovecot_names_it(const char *folder, char separator)
{
	char *name = strdup(folder);

	if (name != NULL && strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || (name[5] == '/' && separator == '/')))
		memcpy(name, "INBOX", 5);
	return name;
}

int explain_folder(FILE *out, const struct mp_user_policy *up,
		   const char *given_folder, char separator)
{
	struct mp_folder_match stack_matches[8], *matches = stack_matches;
	char *folder;
	size_t i, count;

	folder = folder_as_dovecot_names_it(given_folder, separator);
	if (folder == NULL)
		return -1;

	count = mp_user_policy_folder_match(up, folder, separator, matches,
					    N_ELEMENTS(stack_matches));
	if (count > N_ELEMENTS(stack_matches)) {
		matches = calloc(count, sizeof(*matches));
		if (matches == NULL) {
			free(folder);
			return -1;
		}
		count = mp_user_policy_folder_match(up, folder, separator,
						    matches, count);
	}

	print_header(out, "folder_quota", mp_user_policy_user(up));
	fputs(", folder ", out);
	print_word(out, folder);
	fputs(":\n", out);
	if (count == 0)
		fputs("  # no folder_quota rule governs this folder\n", out);
	for (i = 0; i < count; i++) {
		/* The plugin makes no root of a rule without any limit, and
		   the rules it beat for that root do not apply either. */
		if (matches[i].rule.storage == 0 &&
		    matches[i].rule.messages == 0) {
			fputs("  # no quota root ", out);
			print_quota_root(out, folder, matches[i].root_len);
			fputs(": folder ", out);
			print_word(out, matches[i].rule.pattern);
			fputs(" sets no limit\n", out);
			continue;
		}
		fputs("  quota root ", out);
		print_quota_root(out, folder, matches[i].root_len);
		fputs(" from folder ", out);
		print_word(out, matches[i].rule.pattern);
		fputs(":\n", out);
		print_rule_values(out, &matches[i].rule);
	}
	if (matches != stack_matches)
		free(matches);
	free(folder);
	return 0;
}

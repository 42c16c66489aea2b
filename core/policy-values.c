/* policy-values.c: the value syntax of the pop3_retention and folder
 * keys, shared by the policy file and by host overrides (userdb
 * fields), so that `on_dele = defer 7d` in the file and a userdb field
 * `on_dele=defer 7d` can never be read differently.  Also the selector
 * name checks and the built-in values.
 *
 * Zero: sizes and counts take 0 as "no limit" (as Dovecot's quota
 * does), which lets a user block lift an inherited limit.
 * keep_after_retrieval = 0 is allowed (expunge at the end of the
 * session that retrieved).  `defer 0` is not: that is `expunge`. */

#include <stdio.h>
#include <string.h>

#include "idna.h"
#include "policy-private.h"
#include "utf8.h"

void policy_retention_builtin(struct mp_retention *retention)
{
	memset(retention, 0, sizeof(*retention));
	retention->keep_after_retrieval = MP_DURATION_NEVER;
	retention->on_dele = MP_DELE_EXPUNGE;
	retention->on_retrieve = MP_RETRIEVE_NONE;
}

void policy_folder_rule_builtin(struct mp_folder_rule *rule)
{
	memset(rule, 0, sizeof(*rule));
	rule->scope = MP_FOLDER_SCOPE_FOLDER;
}

int policy_one_word(size_t count, const char **error_r, size_t *bad_r)
{
	if (count == 0) {
		*error_r = "missing value";
		*bad_r = 0;
		return -1;
	}
	if (count > 1) {
		*error_r = "unexpected extra value";
		*bad_r = 1;
		return -1;
	}
	return 0;
}

int policy_parse_size(const char *str, uint64_t *bytes_r,
		      const char **error_r)
{
	uint64_t bytes;

	if (mp_units_parse_size(str, &bytes, error_r) < 0)
		return -1;
	if (bytes > MP_POLICY_MAX_SIZE_VALUE) {
		*error_r = "invalid size: too large (limit 8388607T)";
		return -1;
	}
	*bytes_r = bytes;
	return 0;
}

int policy_parse_choice(const struct policy_choice *choice,
			const struct policy_token *word, unsigned int *value_r,
			const char **error_r)
{
	int value = policy_choice_lookup(choice, word->str, word->len);

	if (value < 0) {
		*error_r = choice->error;
		return -1;
	}
	*value_r = (unsigned int)value;
	return 0;
}

static int parse_dele(struct mp_retention *r, const struct policy_token *w,
		      size_t n, const char **error_r, size_t *bad_r)
{
	unsigned int action;
	uint64_t secs = 0;

	*bad_r = 0;
	if (policy_parse_choice(&policy_choice_dele, &w[0], &action,
				error_r) < 0)
		return -1;
	if (action != MP_DELE_DEFER) {
		if (n > 1) {
			*error_r = "unexpected extra value";
			*bad_r = 1;
			return -1;
		}
	} else if (n < 2) {
		*error_r = "needs a duration (e.g. defer 7d)";
		*bad_r = n;	/* missing: after the last word */
		return -1;
	} else if (n > 2) {
		*error_r = "unexpected extra value";
		*bad_r = 2;
		return -1;
	} else {
		*bad_r = 1;
		if (mp_units_parse_duration(w[1].str, &secs, error_r) < 0)
			return -1;
		if (secs == MP_DURATION_NEVER) {
			*error_r = "defer takes a finite duration (hide keeps "
				"a message until keep_after_retrieval ends)";
			return -1;
		}
		if (secs == 0) {
			*error_r = "defer needs a duration above zero "
				"(or use expunge)";
			return -1;
		}
	}
	r->on_dele = action;
	r->dele_defer_secs = secs;
	return 0;
}

static int parse_retrieve(struct mp_retention *r, const struct policy_token *w,
			  size_t n, const char **error_r, size_t *bad_r)
{
	const char *mailbox = NULL;
	unsigned int action;
	size_t i;

	*bad_r = 0;
	if (policy_parse_choice(&policy_choice_retrieve, &w[0], &action,
				error_r) < 0)
		return -1;
	if (action != MP_RETRIEVE_MOVE) {
		if (n > 1) {
			*error_r = "unexpected extra value";
			*bad_r = 1;
			return -1;
		}
	} else if (n < 2) {
		*error_r = "needs a mailbox (e.g. move Archive/POP)";
		*bad_r = n;	/* missing: after the last word */
		return -1;
	} else if (n > 2) {
		*error_r = "unexpected extra value (quote a mailbox name "
			"with spaces)";
		*bad_r = 2;
		return -1;
	} else {
		/* The file's lexer has checked these bytes already; a
		   host override has not. */
		*bad_r = 1;
		if (w[1].len == 0) {
			*error_r = "empty mailbox name";
			return -1;
		}
		for (i = 0; i < w[1].len; i++) {
			unsigned char c = (unsigned char)w[1].str[i];

			if (c < 0x20 || c == 0x7f) {
				*error_r = "control character in mailbox name";
				return -1;
			}
		}
		if (mp_utf8_validate(w[1].str, w[1].len) < 0) {
			*error_r = "invalid UTF-8 in mailbox name";
			return -1;
		}
		mailbox = w[1].str;
	}
	r->on_retrieve = action;
	r->retrieve_mailbox = mailbox;
	return 0;
}

int policy_parse_retention(struct mp_retention *retention,
			   enum mp_retention_key key,
			   const struct policy_token *words, size_t count,
			   const char **error_r, size_t *bad_r)
{
	uint64_t value;

	switch (key) {
	case MP_RETENTION_KEEP_AFTER_RETRIEVAL:
		if (policy_one_word(count, error_r, bad_r) < 0)
			return -1;
		*bad_r = 0;
		if (mp_units_parse_duration(words[0].str, &value, error_r) < 0)
			return -1;
		retention->keep_after_retrieval = value;
		return 0;
	case MP_RETENTION_ON_DELE:
		if (count == 0)
			return policy_one_word(count, error_r, bad_r);
		return parse_dele(retention, words, count, error_r, bad_r);
	case MP_RETENTION_ON_RETRIEVE:
		if (count == 0)
			return policy_one_word(count, error_r, bad_r);
		return parse_retrieve(retention, words, count, error_r, bad_r);
	case MP_RETENTION_MAX_RETAINED_SIZE:
		if (policy_one_word(count, error_r, bad_r) < 0)
			return -1;
		*bad_r = 0;
		if (policy_parse_size(words[0].str, &value, error_r) < 0)
			return -1;
		retention->max_retained_size = value;
		return 0;
	case MP_RETENTION_KEY_COUNT:
		break;
	}
	*error_r = "unknown key";
	*bad_r = 0;
	return -1;
}

int policy_parse_folder(struct mp_folder_rule *rule, enum mp_folder_key key,
			const struct policy_token *words, size_t count,
			const char **error_r, size_t *bad_r)
{
	unsigned int scope, choice;
	uint64_t value;

	if (policy_one_word(count, error_r, bad_r) < 0)
		return -1;
	*bad_r = 0;
	switch (key) {
	case MP_FOLDER_STORAGE:
		if (policy_parse_size(words[0].str, &value, error_r) < 0)
			return -1;
		rule->storage = value;
		return 0;
	case MP_FOLDER_MESSAGES:
		if (mp_units_parse_uint(words[0].str, 0, INT64_MAX, &value,
					error_r) < 0)
			return -1;
		rule->messages = value;
		return 0;
	case MP_FOLDER_SCOPE:
		if (policy_parse_choice(&policy_choice_scope, &words[0], &scope,
					error_r) < 0)
			return -1;
		rule->scope = scope;
		return 0;
	case MP_FOLDER_WHEN_FULL:
		if (policy_parse_choice(&policy_choice_when_full, &words[0],
					&choice, error_r) < 0)
			return -1;
		rule->when_full = choice;
		return 0;
	case MP_FOLDER_KEY_COUNT:
		break;
	}
	*error_r = "unknown key";
	return -1;
}

static void word_init(struct policy_token *word, const char *str, size_t len)
{
	memset(word, 0, sizeof(*word));
	word->type = POLICY_TOKEN_WORD;
	word->str = str;
	word->len = len;
}

int mp_retention_set(struct mp_retention *retention, const char *key,
		     const char *value, const char **error_r)
{
	struct policy_token words[2];
	struct mp_retention copy = *retention;
	char head[32];
	size_t count = 1, head_len, bad;
	const char *rest;
	int k;

	k = policy_name_lookup(policy_retention_key_name,
			       MP_RETENTION_KEY_COUNT, key, strlen(key));
	if (k < 0) {
		*error_r = "unknown pop3_retention key";
		return -1;
	}
	word_init(&words[0], value, strlen(value));
	if (k == MP_RETENTION_ON_DELE || k == MP_RETENTION_ON_RETRIEVE) {
		/* "defer 7d", "move Old Mail": the action, then the rest
		   of the value as its one argument. */
		head_len = strcspn(value, " \t");
		if (value[head_len] != '\0') {
			if (head_len >= sizeof(head)) {
				*error_r = k == MP_RETENTION_ON_DELE ?
					policy_choice_dele.error :
					policy_choice_retrieve.error;
				return -1;
			}
			memcpy(head, value, head_len);
			head[head_len] = '\0';
			word_init(&words[0], head, head_len);
			rest = value + head_len;
			rest += strspn(rest, " \t");
			word_init(&words[1], rest, strlen(rest));
			count = 2;
		}
	}
	if (policy_parse_retention(&copy, k, words, count, error_r, &bad) < 0)
		return -1;
	copy.origin[k].scope = MP_ORIGIN_OVERRIDE;
	copy.origin[k].selector = NULL;
	copy.origin[k].line = 0;
	*retention = copy;
	return 0;
}

int mp_folder_rule_set(struct mp_folder_rule *rule, const char *key,
		       const char *value, const char **error_r)
{
	struct mp_folder_rule copy = *rule;
	struct policy_token word;
	size_t bad;
	int k;

	k = policy_name_lookup(policy_folder_key_name, MP_FOLDER_KEY_COUNT,
			       key, strlen(key));
	if (k < 0) {
		*error_r = "unknown folder key";
		return -1;
	}
	word_init(&word, value, strlen(value));
	if (policy_parse_folder(&copy, k, &word, 1, error_r, &bad) < 0)
		return -1;
	copy.origin[k].scope = MP_ORIGIN_OVERRIDE;
	copy.origin[k].selector = NULL;
	copy.origin[k].line = 0;
	*rule = copy;
	return 0;
}

const char policy_domain_not_ascii[] =
	"not ASCII: write its A-label (xn--..., as idn2(1) prints it)";

static bool domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_';
}

int policy_check_domain(const char *s, size_t len, const char **error_r)
{
	size_t i, start = 0;

	if (len == 0) {
		*error_r = "empty";
		return -1;
	}
	if (len > 253) {
		*error_r = "longer than 253 bytes";
		return -1;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if ((unsigned char)s[i] >= 0x80) {
				/* A U-label never matches: Dovecot and
				   Postfix hand over A-labels. */
				*error_r = POLICY_DOMAIN_NOT_ASCII;
				return -1;
			}
			if (!domain_char((unsigned char)s[i])) {
				*error_r = "invalid character (use letters, "
					"digits, '-', '_' and '.')";
				return -1;
			}
			continue;
		}
		if (i == start) {
			*error_r = "empty label";
			return -1;
		}
		if (i - start > 63) {
			*error_r = "label longer than 63 bytes";
			return -1;
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			*error_r = "label starts or ends with '-'";
			return -1;
		}
		start = i + 1;
	}
	return 0;
}

const char *policy_domain_error(const char *domain, size_t len,
				const char *error, char *buf, size_t size)
{
	char suggestion[256];

	if (error != POLICY_DOMAIN_NOT_ASCII ||
	    mp_idna_suggest(domain, len, suggestion, sizeof(suggestion)) < 0)
		return error;
	snprintf(buf, size, "not ASCII: write its A-label, %s (check with "
		 "idn2(1))", suggestion);
	return buf;
}

int policy_check_user(const char *s, size_t len, const char **error_r,
		      bool *in_domain_r)
{
	size_t i, at = len;

	*in_domain_r = false;
	if (len == 0) {
		*error_r = "empty";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f) {
			*error_r = "spaces and control characters are not "
				"allowed";
			return -1;
		}
		if (c == '@')
			at = i;
	}
	if (at == len)
		return 0;
	if (at == 0) {
		*error_r = "empty local part";
		return -1;
	}
	if (at + 1 == len) {
		*error_r = "empty domain part";
		return -1;
	}
	*in_domain_r = true;
	return policy_check_domain(s + at + 1, len - at - 1, error_r);
}

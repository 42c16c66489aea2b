/* policy-user.c: one user's effective policy, the file's blocks for the
 * user plus the host's per-user overrides (userdb fields).
 *
 * It starts as a view of the scope the user resolves to (no copy), and
 * copies only what an override changes: the retention (a struct), and,
 * on the first folder rule field, the array of rule pointers; a rule an
 * override changes is copied into the user policy's own arena, and a
 * pattern the file lacks is compiled here, so that an overridden
 * `scope` changes the governed root and a new pattern matches, through
 * the same matcher as the file's rules (policy-folder.c).
 *
 * Overrides are all-or-nothing per field: a folder_quota_rule with one
 * bad key changes nothing, and the reason names the key and value. */

#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "policy-private.h"

#define FIELD_RETENTION_PREFIX "pop3_retention_"
#define FIELD_FOLDER_RULE "folder_quota_rule"
#define ERROR_MAX 256

struct mp_user_policy {
	const struct mp_env *env;
	struct mp_policy *policy;	/* referenced */
	const struct policy_scope *scope;
	const char *user;		/* NULL for "no user" */
	struct policy_arena arena;

	struct mp_retention retention;
	bool has_retention;

	/* scope->merged until an override touches a folder rule */
	const struct policy_folder_rule **rules;
	size_t rule_count;
	bool own_rules;
	struct policy_pattern *patterns;	/* compiled here, to free */

	char error[ERROR_MAX];
};

int mp_user_policy_new(const struct mp_env *env, struct mp_policy *policy,
		       const char *user, struct mp_user_policy **user_policy_r)
{
	struct mp_user_policy *up;

	env = mp_env_or_default(env);
	*user_policy_r = NULL;
	up = env->alloc(env->ctx, sizeof(*up));
	if (up == NULL)
		return -1;
	up->env = env;
	policy_arena_init(&up->arena, env);
	if (user != NULL) {
		up->user = policy_arena_strndup(&up->arena, user, strlen(user));
		if (up->user == NULL) {
			policy_arena_free(&up->arena);
			env->free(env->ctx, up);
			return -1;
		}
	}
	up->policy = mp_policy_ref(policy);
	up->scope = policy_resolve(policy, user);
	up->retention = up->scope->retention;
	up->has_retention = up->scope->has_retention;
	/* Read-only until own_rules: the cast only lets the same field
	   hold the user's own copy later. */
	up->rules = (const struct policy_folder_rule **)up->scope->merged;
	up->rule_count = up->scope->merged_count;
	*user_policy_r = up;
	return 0;
}

void mp_user_policy_free(struct mp_user_policy **user_policy)
{
	struct mp_user_policy *up = *user_policy;
	const struct mp_env *env;
	struct policy_pattern *pattern;

	if (up == NULL)
		return;
	*user_policy = NULL;
	env = up->env;
	for (pattern = up->patterns; pattern != NULL; pattern = pattern->next)
		mp_wildcard_free(env, &pattern->wildcard);
	mp_policy_unref(&up->policy);
	policy_arena_free(&up->arena);
	env->free(env->ctx, up);
}

struct mp_policy *mp_user_policy_policy(const struct mp_user_policy *user_policy)
{
	return user_policy->policy;
}

const char *mp_user_policy_user(const struct mp_user_policy *user_policy)
{
	return user_policy->user;
}

/* ---- fields ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* s[0..*len_r) without surrounding blanks. */
static const char *trim(const char *s, size_t *len_r)
{
	size_t len = *len_r;

	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	*len_r = len;
	return s;
}

static int refuse(struct mp_user_policy *up, const char **error_r,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(struct mp_user_policy *up, const char **error_r,
		  const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(up->error, sizeof(up->error), fmt, args);
	va_end(args);
	*error_r = up->error;
	return -1;
}

/* "folder_quota_rule", "folder_quota_rule2", ...: no leading zero, no 1
   (Dovecot's quota_rule2 convention). */
static bool is_folder_rule_field(const char *field)
{
	size_t len = strlen(FIELD_FOLDER_RULE), i;

	if (strncmp(field, FIELD_FOLDER_RULE, len) != 0)
		return false;
	field += len;
	if (*field == '\0')
		return true;
	if (field[0] < '2' || field[0] > '9') {
		if (!(field[0] == '1' && field[1] >= '0' && field[1] <= '9'))
			return false;
	}
	for (i = 0; field[i] != '\0'; i++) {
		if (field[i] < '0' || field[i] > '9' || i >= 9)
			return false;
	}
	return true;
}

static int set_retention(struct mp_user_policy *up, const char *field,
			 const char *value, size_t len, const char **error_r)
{
	const char *key = field + strlen(FIELD_RETENTION_PREFIX), *error;
	struct mp_retention copy = up->retention;
	char *owned;

	if (policy_name_lookup(policy_retention_key_name,
			       MP_RETENTION_KEY_COUNT, key, strlen(key)) < 0)
		return 0;	/* pop3_retention_something_else: not ours */
	/* The value must outlive the retention (a move keeps a pointer). */
	owned = policy_arena_strndup(&up->arena, value, len);
	if (owned == NULL)
		return refuse(up, error_r, "out of memory");
	if (mp_retention_set(&copy, key, owned, &error) < 0)
		return refuse(up, error_r, "\"%.*s\": %s",
			      len > 64 ? 64 : (int)len, value, error);
	up->retention = copy;
	up->has_retention = true;
	return 1;
}

/* The user's own copy of the rule pointer array, made once. */
static int own_rules(struct mp_user_policy *up)
{
	const struct policy_folder_rule **rules;

	if (up->own_rules)
		return 0;
	rules = policy_arena_alloc(&up->arena, MP_POLICY_MAX_FOLDER_RULES *
				   sizeof(*rules));
	if (rules == NULL)
		return -1;
	if (up->rule_count > 0)
		memcpy(rules, up->rules, up->rule_count * sizeof(*rules));
	up->rules = rules;
	up->own_rules = true;
	return 0;
}

/* The pattern node for canonical[0..len): the policy's, one compiled
   here before, or a new one. */
static int pattern_for(struct mp_user_policy *up, const char *canonical,
		       size_t len, const struct policy_pattern **pattern_r,
		       const char **error_r)
{
	const struct policy_pattern *found;
	struct policy_pattern *pattern;
	struct mp_wildcard *wildcard;
	const char *error;
	int ret;

	found = policy_pattern_find(up->policy, canonical, len);
	if (found == NULL) {
		for (pattern = up->patterns; pattern != NULL;
		     pattern = pattern->next) {
			if (pattern->len == len &&
			    memcmp(pattern->str, canonical, len) == 0) {
				found = pattern;
				break;
			}
		}
	}
	if (found != NULL) {
		*pattern_r = found;
		return 0;
	}
	ret = mp_wildcard_compile(up->env, canonical, &wildcard, &error);
	if (ret == MP_WILDCARD_ERROR_NOMEM)
		return refuse(up, error_r, "out of memory");
	if (ret < 0)
		return refuse(up, error_r, "%s", error);
	pattern = policy_arena_alloc(&up->arena, sizeof(*pattern));
	if (pattern == NULL) {
		mp_wildcard_free(up->env, &wildcard);
		return refuse(up, error_r, "out of memory");
	}
	policy_pattern_init(pattern, wildcard);
	pattern->next = up->patterns;
	up->patterns = pattern;
	*pattern_r = pattern;
	return 0;
}

/* Where the pattern of "PATTERN:KEY=VALUE..." ends: the first ':'
   followed by a folder key and '=' (a pattern may hold ':' itself). */
static const char *rule_pattern_end(const char *s, const char *end)
{
	const char *colon, *key, *eq;
	size_t key_len;

	for (colon = memchr(s, ':', (size_t)(end - s)); colon != NULL;
	     colon = memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
		key = colon + 1;
		eq = memchr(key, '=', (size_t)(end - key));
		if (eq == NULL)
			return NULL;
		key_len = (size_t)(eq - key);
		/* a key may have blanks around it */
		key = trim(key, &key_len);
		if (policy_name_lookup(policy_folder_key_name,
				       MP_FOLDER_KEY_COUNT, key, key_len) >= 0)
			return colon;
	}
	return NULL;
}

static int set_folder_rule(struct mp_user_policy *up, const char *field,
			   const char *value, size_t len, const char **error_r)
{
	const char *end = value + len, *pattern_end, *p, *next, *key, *eq, *error;
	const struct policy_pattern *pattern = NULL;
	struct policy_folder_rule *rule;
	char canonical[MP_WILDCARD_MAX_LEN + 1], word[64];
	size_t pattern_len, key_len, word_len, i;
	struct mp_folder_rule copy;
	int k;

	(void)field;
	pattern_end = rule_pattern_end(value, end);
	if (pattern_end == NULL) {
		return refuse(up, error_r, "\"%.*s\": use PATTERN:KEY=VALUE "
			      "with KEY storage, messages, scope or when_full",
			      len > 64 ? 64 : (int)len, value);
	}
	pattern_len = (size_t)(pattern_end - value);
	p = trim(value, &pattern_len);
	if (pattern_len == 0)
		return refuse(up, error_r, "missing folder pattern before ':'");
	if (pattern_len > MP_WILDCARD_MAX_LEN)
		return refuse(up, error_r, "invalid folder pattern: longer "
			      "than %u bytes", MP_WILDCARD_MAX_LEN);
	if (memchr(p, '\0', pattern_len) != NULL)
		return refuse(up, error_r, "NUL byte in the pattern");
	policy_pattern_canonical(p, pattern_len, canonical);
	if (pattern_for(up, canonical, pattern_len, &pattern, error_r) < 0)
		return -1;

	/* The rule as the user has it so far, or a new one. */
	for (i = 0; i < up->rule_count; i++) {
		if (up->rules[i]->pattern == pattern)
			break;
	}
	if (i < up->rule_count)
		copy = up->rules[i]->rule;
	else {
		if (up->rule_count >= MP_POLICY_MAX_FOLDER_RULES)
			return refuse(up, error_r, "too many folder rules "
				      "(limit %u)", MP_POLICY_MAX_FOLDER_RULES);
		policy_folder_rule_builtin(&copy);
		copy.pattern = pattern->str;
	}

	/* Every KEY=VALUE, into the copy; the first bad one refuses all. */
	for (p = pattern_end; p < end; p = next) {
		p++;			/* the ':' */
		next = memchr(p, ':', (size_t)(end - p));
		if (next == NULL)
			next = end;
		eq = memchr(p, '=', (size_t)(next - p));
		key_len = eq == NULL ? (size_t)(next - p) : (size_t)(eq - p);
		key = trim(p, &key_len);
		if (eq == NULL) {
			return refuse(up, error_r, "\"%.*s\": use KEY=VALUE",
				      key_len > 64 ? 64 : (int)key_len, key);
		}
		k = policy_name_lookup(policy_folder_key_name,
				       MP_FOLDER_KEY_COUNT, key, key_len);
		if (k < 0) {
			return refuse(up, error_r, "unknown key \"%.*s\" (use "
				      "storage, messages, scope or when_full)",
				      key_len > 64 ? 64 : (int)key_len, key);
		}
		word_len = (size_t)(next - eq - 1);
		key = trim(eq + 1, &word_len);
		if (word_len == 0 || word_len >= sizeof(word)) {
			return refuse(up, error_r, "%s: %s",
				      mp_folder_key_name(k), word_len == 0 ?
				      "missing value" : "value too long");
		}
		memcpy(word, key, word_len);
		word[word_len] = '\0';
		if (mp_folder_rule_set(&copy, mp_folder_key_name(k), word,
				       &error) < 0)
			return refuse(up, error_r, "%s \"%s\": %s",
				      mp_folder_key_name(k), word, error);
	}

	rule = policy_arena_alloc(&up->arena, sizeof(*rule));
	if (rule == NULL || own_rules(up) < 0)
		return refuse(up, error_r, "out of memory");
	rule->rule = copy;
	rule->pattern = pattern;
	up->rules[i] = rule;
	if (i == up->rule_count)
		up->rule_count++;
	return 1;
}

int mp_user_policy_set_field(struct mp_user_policy *user_policy,
			     const char *field, const char *value,
			     const char **error_r)
{
	size_t len = strlen(value);
	const char *trimmed = trim(value, &len);
	bool retention;

	retention = strncmp(field, FIELD_RETENTION_PREFIX,
			    strlen(FIELD_RETENTION_PREFIX)) == 0;
	if (!retention && !is_folder_rule_field(field))
		return 0;
	if (len == 0)
		return 0;
	if (retention)
		return set_retention(user_policy, field, trimmed, len, error_r);
	return set_folder_rule(user_policy, field, trimmed, len, error_r);
}

/* ---- answers ---- */

bool mp_user_policy_retention(const struct mp_user_policy *user_policy,
			      struct mp_retention *retention_r)
{
	*retention_r = user_policy->retention;
	return user_policy->has_retention;
}

size_t mp_user_policy_folder_rule_count(const struct mp_user_policy *user_policy)
{
	return user_policy->rule_count;
}

bool mp_user_policy_folder_rule(const struct mp_user_policy *user_policy,
				size_t idx, struct mp_folder_rule *rule_r)
{
	if (idx >= user_policy->rule_count)
		return false;
	*rule_r = user_policy->rules[idx]->rule;
	return true;
}

size_t mp_user_policy_folder_match(const struct mp_user_policy *user_policy,
				   const char *folder, char separator,
				   struct mp_folder_match *matches, size_t max)
{
	return policy_folder_match(user_policy->rules, user_policy->rule_count,
				   folder, separator, matches, max);
}

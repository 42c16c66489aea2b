/* policy-build.c: what the lines of mailpolicy.conf mean, decided line
 * by line as the parser reads them (so the first error reported is the
 * first in the file).  This file knows the sections, the selectors and
 * the pop3_retention and folder_quota blocks; listener and milter
 * blocks are in policy-build-listener.c and policy-build-milter.c;
 * policy-compile.c merges at the end.
 *
 * Selector scopes (the default, each domain, each user) are created on
 * first use and shared by the pop3_retention and folder_quota blocks
 * naming them, so a user has one scope record and one hash entry. */

#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "policy-private.h"

struct policy_build {
	struct mp_policy *policy;
	struct policy_errctx *ctx;

	enum policy_section open[MP_POLICY_MAX_DEPTH];
	struct policy_scope *scope;		/* pop3_retention, folder_quota */
	struct policy_folder_set *rule;		/* folder */
	struct mp_listener *listener;		/* listener */
	struct policy_build_keys keys;		/* of the innermost block */
	uint8_t port_bitmap[65536 / 8];
};

struct policy_build *policy_build_new(struct mp_policy *policy,
				      struct policy_errctx *ctx)
{
	const struct mp_env *env = policy->env;
	struct policy_build *build;

	build = env->alloc(env->ctx, sizeof(*build));
	if (build == NULL) {
		policy_error_oom(ctx);
		return NULL;
	}
	build->policy = policy;
	build->ctx = ctx;
	return build;
}

void policy_build_free(struct policy_build **build)
{
	const struct mp_env *env;

	if (*build == NULL)
		return;
	env = (*build)->policy->env;
	env->free(env->ctx, *build);
	*build = NULL;
}

/* ---- selectors ---- */

static struct policy_scope *
scope_get(struct mp_policy *policy, enum mp_origin_scope kind,
	  const char *name, size_t len, size_t at)
{
	struct policy_htable *table;
	struct policy_scope *scope;
	uint64_t hash;

	if (kind == MP_ORIGIN_DEFAULT)
		return &policy->default_scope;

	hash = mp_siphash13_fold(policy->hash_key, name, len,
			   kind == MP_ORIGIN_USER ? at + 1 : 0);
	scope = kind == MP_ORIGIN_DOMAIN ?
		policy_find_domain(policy, name, len, hash) :
		policy_find_user(policy, name, len, at, hash);
	if (scope != NULL)
		return scope;

	scope = policy_arena_alloc(&policy->arena, sizeof(*scope));
	if (scope == NULL)
		return NULL;
	scope->name = policy_arena_strndup(&policy->arena, name, len);
	if (scope->name == NULL)
		return NULL;
	scope->name_len = len;
	scope->hash = hash;
	scope->kind = kind;
	scope->at = at;
	scope->rules_tail = &scope->rules;
	table = kind == MP_ORIGIN_DOMAIN ? &policy->domains : &policy->users;
	if (policy_htable_add(table, &policy->arena, hash, scope) < 0)
		return NULL;
	if (kind == MP_ORIGIN_DOMAIN) {
		*policy->domain_tail = scope;
		policy->domain_tail = &scope->next;
	} else {
		*policy->user_tail = scope;
		policy->user_tail = &scope->next;
	}
	return scope;
}

/* The selector words of a pop3_retention or folder_quota header ->
   the scope (created when new). */
static int parse_selector(struct policy_build *build,
			  const struct policy_token *name,
			  const struct policy_token *args, size_t count,
			  struct policy_scope **scope_r)
{
	struct policy_errctx *ctx = build->ctx;
	enum mp_origin_scope kind;
	const char *error;
	char buf[80], norm[MP_POLICY_MAX_LINE], hint[320];
	bool in_domain;
	size_t i, at;

	if (count == 0) {
		*scope_r = &build->policy->default_scope;
		return 0;
	}
	if (args[0].type == POLICY_TOKEN_WORD &&
	    strcmp(args[0].str, mp_origin_scope_name(MP_ORIGIN_DOMAIN)) == 0)
		kind = MP_ORIGIN_DOMAIN;
	else if (args[0].type == POLICY_TOKEN_WORD &&
		 strcmp(args[0].str, mp_origin_scope_name(MP_ORIGIN_USER)) == 0)
		kind = MP_ORIGIN_USER;
	else {
		return policy_error(ctx, args[0].line, args[0].col,
				    "unknown selector %s after %s (use "
				    "domain NAME or user ADDRESS)",
				    policy_shown(&args[0], buf), name->str);
	}
	if (count == 1) {
		return policy_error(ctx, args[0].line,
				    args[0].col + args[0].raw_len,
				    kind == MP_ORIGIN_DOMAIN ?
				    "missing domain name after \"domain\"" :
				    "missing address after \"user\"");
	}
	if (count > 2) {
		return policy_error(ctx, args[2].line, args[2].col,
				    "unexpected %s after the selector",
				    policy_shown(&args[2], buf));
	}
	if (kind == MP_ORIGIN_DOMAIN) {
		if (policy_check_domain(args[1].str, args[1].len, &error) < 0) {
			return policy_error(ctx, args[1].line, args[1].col,
					    "invalid domain %s: %s",
					    policy_shown(&args[1], buf),
					    policy_domain_error(args[1].str,
						args[1].len, error, hint,
						sizeof(hint)));
		}
		at = 0;
	} else {
		if (policy_check_user(args[1].str, args[1].len, &error,
				      &in_domain) < 0) {
			const char *d = strrchr(args[1].str, '@');

			return policy_error(ctx, args[1].line, args[1].col,
					    "invalid user %s: %s%s",
					    policy_shown(&args[1], buf),
					    in_domain ? "domain part: " : "",
					    in_domain && d != NULL ?
					    policy_domain_error(d + 1,
						args[1].len - (size_t)(d + 1 -
						args[1].str), error, hint,
						sizeof(hint)) : error);
		}
		at = args[1].len;
		for (i = 0; i < args[1].len; i++) {
			if (args[1].str[i] == '@')
				at = i;
		}
	}
	/* Domains are stored lower-cased (ASCII), a user's domain part
	   too; a user's local part stays as written. */
	memcpy(norm, args[1].str, args[1].len);
	for (i = kind == MP_ORIGIN_DOMAIN ? 0 : at; i < args[1].len; i++)
		norm[i] = (char)mp_ascii_tolower((unsigned char)norm[i]);
	*scope_r = scope_get(build->policy, kind, norm, args[1].len, at);
	if (*scope_r == NULL)
		return policy_error_oom(ctx);
	return 0;
}

static void scope_describe(const char *section, const struct policy_scope *scope,
			   char *desc, size_t size)
{
	char buf[80];

	if (scope->kind == MP_ORIGIN_DEFAULT)
		snprintf(desc, size, "%s", section);
	else {
		snprintf(desc, size, "%s %s %s", section,
			 mp_origin_scope_name(scope->kind),
			 policy_clip(scope->name, buf));
	}
}

/* ---- block headers ---- */

static int open_top(struct policy_build *build, const struct policy_token *name,
		    const struct policy_token *args, size_t count)
{
	struct mp_policy *policy = build->policy;
	struct policy_errctx *ctx = build->ctx;
	struct policy_scope *scope;
	unsigned int *first_line;
	char buf[80], desc[128];
	int section;

	section = policy_name_lookup(policy_section_name_u,
				     POLICY_SECTION_COUNT, name->str, name->len);
	if (section < 0 || section == POLICY_SECTION_FOLDER) {
		return policy_error(ctx, name->line, name->col,
				    "unknown section %s%s", policy_shown(name, buf),
				    section == POLICY_SECTION_FOLDER ?
				    " (folder blocks go inside folder_quota)" :
				    "");
	}
	build->open[0] = section;
	switch ((enum policy_section)section) {
	case POLICY_SECTION_POP3_RETENTION:
	case POLICY_SECTION_FOLDER_QUOTA:
		if (parse_selector(build, name, args, count, &scope) < 0)
			return -1;
		first_line = section == POLICY_SECTION_POP3_RETENTION ?
			&scope->retention_line : &scope->folder_line;
		if (*first_line != 0) {
			scope_describe(name->str, scope, desc, sizeof(desc));
			return policy_error(ctx, name->line, name->col,
					    "duplicate block %s (first at "
					    "line %u)", desc, *first_line);
		}
		*first_line = name->line;
		if (section == POLICY_SECTION_POP3_RETENTION)
			policy->has_retention = true;
		else {
			scope->folder_col = name->col;
			policy->has_folder_quota = true;
		}
		build->scope = scope;
		return 0;
	case POLICY_SECTION_LISTENER:
		if (count == 0) {
			return policy_error(ctx, name->line,
					    name->col + name->raw_len,
					    "missing label after \"listener\"");
		}
		if (count > 1) {
			return policy_error(ctx, args[1].line, args[1].col,
					    "unexpected %s after the listener "
					    "label (listener takes no selector)",
					    policy_shown(&args[1], buf));
		}
		policy->has_listeners = true;
		return policy_build_listener_open(policy, ctx, &args[0],
						  &build->listener);
	case POLICY_SECTION_MILTER:
		if (count > 0) {
			return policy_error(ctx, args[0].line, args[0].col,
					    "unexpected %s after milter (milter "
					    "takes no label or selector)",
					    policy_shown(&args[0], buf));
		}
		if (policy->milter_line != 0) {
			return policy_error(ctx, name->line, name->col,
					    "duplicate block milter (first at "
					    "line %u)", policy->milter_line);
		}
		policy->milter_line = name->line;
		policy->has_milter = true;
		return 0;
	case POLICY_SECTION_FOLDER:
	case POLICY_SECTION_COUNT:
		break;
	}
	return -1;
}

/* The compiled pattern for a folder block's pattern word, compiled on
   first use and shared afterwards (a leading INBOX in any case is one
   pattern: `folder inbox` overrides `folder INBOX`). */
static int pattern_get(struct mp_policy *policy, struct policy_errctx *ctx,
		       const struct policy_token *word,
		       const struct policy_pattern **pattern_r)
{
	struct policy_pattern *pattern;
	struct mp_wildcard *wildcard;
	const char *error;
	char buf[80], canonical[MP_POLICY_MAX_LINE + 1];
	int ret;

	policy_pattern_canonical(word->str, word->len, canonical);
	*pattern_r = policy_pattern_find(policy, canonical, word->len);
	if (*pattern_r != NULL)
		return 0;
	ret = mp_wildcard_compile(policy->env, canonical, &wildcard, &error);
	if (ret == MP_WILDCARD_ERROR_NOMEM)
		return policy_error_oom(ctx);
	if (ret < 0) {
		return policy_error(ctx, word->line, word->col,
				    "folder %s: %s", policy_shown(word, buf), error);
	}
	pattern = policy_arena_alloc(&policy->arena, sizeof(*pattern));
	if (pattern == NULL) {
		mp_wildcard_free(policy->env, &wildcard);
		return policy_error_oom(ctx);
	}
	policy_pattern_init(pattern, wildcard);
	pattern->next = policy->pattern_list;
	policy->pattern_list = pattern;
	pattern->hash = policy_pattern_hash(policy, pattern->str, pattern->len);
	if (policy_htable_add(&policy->patterns, &policy->arena, pattern->hash,
			      pattern) < 0)
		return policy_error_oom(ctx);
	*pattern_r = pattern;
	return 0;
}

static int open_folder(struct policy_build *build,
		       const struct policy_token *name,
		       const struct policy_token *args, size_t count)
{
	struct mp_policy *policy = build->policy;
	struct policy_errctx *ctx = build->ctx;
	struct policy_scope *scope = build->scope;
	const struct policy_pattern *pattern = NULL;
	struct policy_folder_set *rule;
	char buf[80], hint[128];

	if (count == 0) {
		return policy_error(ctx, name->line, name->col + name->raw_len,
				    "missing pattern after \"folder\"%s",
				    policy_comment_hint(ctx, name->line, hint));
	}
	if (count > 1) {
		return policy_error(ctx, args[1].line, args[1].col,
				    "unexpected %s after the folder pattern "
				    "(quote a pattern with spaces)",
				    policy_shown(&args[1], buf));
	}
	if (pattern_get(policy, ctx, &args[0], &pattern) < 0)
		return -1;
	for (rule = scope->rules; rule != NULL; rule = rule->next) {
		if (rule->pattern == pattern) {
			return policy_error(ctx, args[0].line, args[0].col,
					    "duplicate folder %s in this "
					    "block (first at line %u)",
					    policy_shown(&args[0], buf), rule->line);
		}
	}
	if (scope->rule_count >= MP_POLICY_MAX_FOLDER_RULES) {
		return policy_error(ctx, args[0].line, args[0].col,
				    "too many folder rules in one block "
				    "(limit %u)", MP_POLICY_MAX_FOLDER_RULES);
	}
	rule = policy_arena_alloc(&policy->arena, sizeof(*rule));
	if (rule == NULL)
		return policy_error_oom(ctx);
	rule->pattern = pattern;
	rule->line = args[0].line;
	rule->col = args[0].col;
	*scope->rules_tail = rule;
	scope->rules_tail = &rule->next;
	scope->rule_count++;
	build->rule = rule;
	return 0;
}

void policy_build_describe(const struct policy_build *build,
			   unsigned int depth, char *buf, size_t size)
{
	enum policy_section section = build->open[depth];
	char clip[80];

	switch (section) {
	case POLICY_SECTION_POP3_RETENTION:
	case POLICY_SECTION_FOLDER_QUOTA:
		scope_describe(policy_section_name(section), build->scope, buf,
			       size);
		return;
	case POLICY_SECTION_LISTENER:
		snprintf(buf, size, "listener %s",
			 policy_clip(build->listener->label, clip));
		return;
	case POLICY_SECTION_FOLDER:
		snprintf(buf, size, "folder %s",
			 policy_clip(build->rule->pattern->str, clip));
		return;
	case POLICY_SECTION_MILTER:
	case POLICY_SECTION_COUNT:
		break;
	}
	snprintf(buf, size, "%s", policy_section_name(section));
}

int policy_build_open(struct policy_build *build, unsigned int depth,
		      const struct policy_token *name,
		      const struct policy_token *args, size_t count)
{
	enum policy_section parent;
	char buf[80];

	memset(&build->keys, 0, sizeof(build->keys));
	if (depth == 0)
		return open_top(build, name, args, count);
	parent = build->open[depth - 1];
	if (parent != POLICY_SECTION_FOLDER_QUOTA) {
		return policy_error(build->ctx, name->line, name->col,
				    "unexpected block %s in %s block (it "
				    "takes only keys)", policy_shown(name, buf),
				    policy_section_name(parent));
	}
	if (strcmp(name->str, policy_section_name(POLICY_SECTION_FOLDER)) != 0) {
		return policy_error(build->ctx, name->line, name->col,
				    "unknown block %s in folder_quota block "
				    "(only folder blocks)", policy_shown(name, buf));
	}
	build->open[depth] = POLICY_SECTION_FOLDER;
	return open_folder(build, name, args, count);
}

/* ---- keys ---- */

static void origin_set(struct mp_origin *origin,
		       const struct policy_scope *scope, unsigned int line)
{
	origin->scope = scope->kind;
	origin->selector = scope->kind == MP_ORIGIN_DEFAULT ? NULL : scope->name;
	origin->line = line;
}

static int assign_retention(struct policy_build *build,
			    const struct policy_token *key,
			    const struct policy_token *values, size_t count)
{
	struct policy_scope *scope = build->scope;
	struct mp_retention *r = &scope->retention;
	const char *error;
	size_t bad;
	int k;

	k = policy_key_lookup(build->ctx, &build->keys, key,
			      policy_retention_key_name, MP_RETENTION_KEY_COUNT,
			      "pop3_retention");
	if (k < 0)
		return -1;
	if (policy_parse_retention(r, k, values, count, &error, &bad) < 0)
		return policy_value_error(build->ctx, key, values, count, bad, error);
	if (k == MP_RETENTION_ON_RETRIEVE && r->retrieve_mailbox != NULL) {
		r->retrieve_mailbox =
			policy_arena_strndup(&build->policy->arena,
					     values[1].str, values[1].len);
		if (r->retrieve_mailbox == NULL)
			return policy_error_oom(build->ctx);
	}
	origin_set(&r->origin[k], scope, key->line);
	scope->retention_mask |= 1u << k;
	return 0;
}

static int assign_folder(struct policy_build *build,
			 const struct policy_token *key,
			 const struct policy_token *values, size_t count)
{
	struct policy_folder_set *rule = build->rule;
	struct mp_folder_rule parsed;
	const char *error;
	size_t bad;
	int k;

	k = policy_key_lookup(build->ctx, &build->keys, key, policy_folder_key_name,
			      MP_FOLDER_KEY_COUNT, "folder");
	if (k < 0)
		return -1;
	policy_folder_rule_builtin(&parsed);
	if (policy_parse_folder(&parsed, k, values, count, &error, &bad) < 0)
		return policy_value_error(build->ctx, key, values, count, bad, error);
	if (k == MP_FOLDER_STORAGE)
		rule->storage = parsed.storage;
	else if (k == MP_FOLDER_MESSAGES)
		rule->messages = parsed.messages;
	else if (k == MP_FOLDER_SCOPE)
		rule->scope = parsed.scope;
	else
		rule->when_full = parsed.when_full;
	rule->key_line[k] = key->line;
	rule->set_mask |= 1u << k;
	return 0;
}

int policy_build_assign(struct policy_build *build, unsigned int depth,
			const struct policy_token *key,
			const struct policy_token *values, size_t count)
{
	struct policy_errctx *ctx = build->ctx;
	char buf[80];

	if (depth == 0) {
		return policy_error(ctx, key->line, key->col,
				    "key %s outside of any block",
				    policy_shown(key, buf));
	}
	switch (build->open[depth - 1]) {
	case POLICY_SECTION_POP3_RETENTION:
		return assign_retention(build, key, values, count);
	case POLICY_SECTION_FOLDER:
		return assign_folder(build, key, values, count);
	case POLICY_SECTION_FOLDER_QUOTA:
		if (policy_name_lookup(policy_folder_key_name,
				       MP_FOLDER_KEY_COUNT, key->str,
				       key->len) >= 0) {
			return policy_error(ctx, key->line, key->col,
					    "key %s must be inside a folder "
					    "block", policy_shown(key, buf));
		}
		return policy_error(ctx, key->line, key->col,
				    "unknown key %s in folder_quota block",
				    policy_shown(key, buf));
	case POLICY_SECTION_LISTENER:
		if (policy_build_listener_assign(build->policy, ctx,
						 build->listener, &build->keys,
						 build->port_bitmap, key,
						 values, count) < 0)
			return -1;
		return 0;
	case POLICY_SECTION_MILTER:
		return policy_build_milter_assign(build->policy, ctx,
						  &build->keys, key, values,
						  count);
	case POLICY_SECTION_COUNT:
		break;
	}
	return -1;
}

int policy_build_close(struct policy_build *build, unsigned int depth,
		       const struct policy_token *brace)
{
	(void)brace;
	if (depth == 0 && build->open[0] == POLICY_SECTION_LISTENER) {
		return policy_build_listener_close(build->policy, build->ctx,
						   build->listener,
						   &build->keys);
	}
	if (depth == 0 && build->open[0] == POLICY_SECTION_MILTER) {
		return policy_build_milter_close(build->ctx, build->policy,
						 &build->keys);
	}
	/* Leaving a folder block: the keys seen so far belonged to it. */
	memset(&build->keys, 0, sizeof(build->keys));
	return 0;
}

int policy_build_finish(struct policy_build *build)
{
	return policy_compile(build->policy, build->ctx);
}

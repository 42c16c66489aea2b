/* policy-compile.c: inheritance, resolved once at load time.
 *
 * After the last line every scope gets its final results, so a lookup
 * is one hash hit and no merging:
 *   default = built-in + the default blocks
 *   domain  = default + the domain's blocks
 *   user    = (the user's domain if it has blocks, else default)
 *             + the user's blocks
 * per key for pop3_retention, and per folder pattern and then per key
 * for folder_quota: a more specific block's `folder X` overrides only
 * the keys it sets for X, and patterns it does not name are inherited.
 * Merged folder rules keep the order in which their patterns first
 * appear along the chain (default, domain, user), which is what
 * "earlier wins" in mp_policy_folder_match() refers to.  A scope that
 * adds no folder rules shares its parent's array.
 *
 * Then the listeners' ports go into a sorted array (binary search). */

#include <stdlib.h>
#include <string.h>

#include "policy-private.h"

static void retention_copy_key(struct mp_retention *dst,
			       const struct mp_retention *src,
			       enum mp_retention_key key)
{
	switch (key) {
	case MP_RETENTION_KEEP_AFTER_RETRIEVAL:
		dst->keep_after_retrieval = src->keep_after_retrieval;
		break;
	case MP_RETENTION_ON_DELE:
		dst->on_dele = src->on_dele;
		dst->dele_defer_secs = src->dele_defer_secs;
		break;
	case MP_RETENTION_ON_RETRIEVE:
		dst->on_retrieve = src->on_retrieve;
		dst->retrieve_mailbox = src->retrieve_mailbox;
		break;
	case MP_RETENTION_MAX_RETAINED_SIZE:
		dst->max_retained_size = src->max_retained_size;
		break;
	case MP_RETENTION_KEY_COUNT:
		return;
	}
	dst->origin[key] = src->origin[key];
}

static void merge_retention(struct policy_scope *scope,
			    const struct policy_scope *parent)
{
	struct mp_retention own = scope->retention;
	unsigned int k;

	scope->retention = parent->retention;
	scope->has_retention = parent->has_retention ||
		scope->retention_line != 0;
	for (k = 0; k < MP_RETENTION_KEY_COUNT; k++) {
		if ((scope->retention_mask & (1u << k)) != 0)
			retention_copy_key(&scope->retention, &own, k);
	}
}

static struct policy_folder_rule *
rule_new(struct mp_policy *policy, const struct policy_folder_rule *base,
	 const struct policy_pattern *pattern)
{
	struct policy_folder_rule *rule;

	rule = policy_arena_alloc(&policy->arena, sizeof(*rule));
	if (rule == NULL)
		return NULL;
	if (base != NULL)
		*rule = *base;
	else {
		policy_folder_rule_builtin(&rule->rule);
		rule->rule.pattern = pattern->str;
		rule->pattern = pattern;
	}
	return rule;
}

static void rule_apply(struct policy_folder_rule *rule,
		       const struct policy_folder_set *set,
		       const struct policy_scope *scope)
{
	unsigned int k;

	for (k = 0; k < MP_FOLDER_KEY_COUNT; k++) {
		if ((set->set_mask & (1u << k)) == 0)
			continue;
		if (k == MP_FOLDER_STORAGE)
			rule->rule.storage = set->storage;
		else if (k == MP_FOLDER_MESSAGES)
			rule->rule.messages = set->messages;
		else if (k == MP_FOLDER_SCOPE)
			rule->rule.scope = set->scope;
		else
			rule->rule.when_full = set->when_full;
		rule->rule.origin[k].scope = scope->kind;
		rule->rule.origin[k].selector =
			scope->kind == MP_ORIGIN_DEFAULT ? NULL : scope->name;
		rule->rule.origin[k].line = set->key_line[k];
	}
}

static int merge_folders(struct mp_policy *policy, struct policy_errctx *ctx,
			 struct policy_scope *scope,
			 const struct policy_scope *parent)
{
	const struct policy_folder_rule **merged;
	const struct policy_folder_set *set;
	struct policy_folder_rule *rule;
	size_t count, i;

	if (scope->rule_count == 0) {
		scope->merged = parent->merged;
		scope->merged_count = parent->merged_count;
		return 0;
	}
	merged = policy_arena_alloc(&policy->arena,
				    (parent->merged_count + scope->rule_count) *
				    sizeof(*merged));
	if (merged == NULL)
		return policy_error_oom(ctx);
	count = parent->merged_count;
	if (count > 0)
		memcpy(merged, parent->merged, count * sizeof(*merged));
	for (set = scope->rules; set != NULL; set = set->next) {
		/* patterns are shared: the same pattern, the same pointer */
		for (i = 0; i < parent->merged_count; i++) {
			if (merged[i]->pattern == set->pattern)
				break;
		}
		if (i == parent->merged_count) {
			if (count >= MP_POLICY_MAX_FOLDER_RULES) {
				return policy_error(ctx, set->line, set->col,
						    "too many folder rules for "
						    "%s %s (limit %u, inherited "
						    "ones included)",
						    mp_origin_scope_name(scope->kind),
						    scope->name,
						    MP_POLICY_MAX_FOLDER_RULES);
			}
			i = count++;
			rule = rule_new(policy, NULL, set->pattern);
		} else {
			rule = rule_new(policy, merged[i], NULL);
		}
		if (rule == NULL)
			return policy_error_oom(ctx);
		rule_apply(rule, set, scope);
		merged[i] = rule;
	}
	scope->merged = merged;
	scope->merged_count = count;
	return 0;
}

static int port_cmp(const void *a, const void *b)
{
	const struct policy_port *pa = a, *pb = b;

	return (int)pa->port - (int)pb->port;
}

static int index_ports(struct mp_policy *policy, struct policy_errctx *ctx)
{
	const struct mp_listener *listener;
	size_t i, j, count = 0;

	for (i = 0; i < policy->listener_count; i++)
		count += policy->listeners[i]->port_count;
	if (count == 0)
		return 0;
	policy->ports = policy_arena_alloc(&policy->arena,
					   count * sizeof(*policy->ports));
	if (policy->ports == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < policy->listener_count; i++) {
		listener = policy->listeners[i];
		for (j = 0; j < listener->port_count; j++) {
			policy->ports[policy->port_count].port =
				listener->ports[j];
			policy->ports[policy->port_count].listener = listener;
			policy->port_count++;
		}
	}
	qsort(policy->ports, count, sizeof(*policy->ports), port_cmp);
	return 0;
}

int policy_compile(struct mp_policy *policy, struct policy_errctx *ctx)
{
	struct policy_scope *def = &policy->default_scope, *scope;
	const struct policy_scope *parent;
	struct policy_scope builtin;

	memset(&builtin, 0, sizeof(builtin));
	policy_retention_builtin(&builtin.retention);
	merge_retention(def, &builtin);
	if (merge_folders(policy, ctx, def, &builtin) < 0)
		return -1;

	for (scope = policy->domain_list; scope != NULL; scope = scope->next) {
		merge_retention(scope, def);
		if (merge_folders(policy, ctx, scope, def) < 0)
			return -1;
	}
	for (scope = policy->user_list; scope != NULL; scope = scope->next) {
		parent = NULL;
		if (scope->at < scope->name_len) {
			const char *domain = scope->name + scope->at + 1;
			size_t len = scope->name_len - scope->at - 1;

			parent = policy_find_domain(policy, domain, len,
						    mp_siphash13_fold(policy->hash_key,
								domain, len, 0));
		}
		if (parent == NULL)
			parent = def;
		merge_retention(scope, parent);
		if (merge_folders(policy, ctx, scope, parent) < 0)
			return -1;
	}
	return index_ports(policy, ctx);
}

/* policy-lookup.c: the questions hosts ask a loaded policy.
 *
 * All of them are read-only and allocation-free, so any number of
 * threads may ask at once.  A user resolves to at most two hash probes
 * (the user, then the user's domain) and falls back to the default
 * scope; the folder questions then scan that scope's merged rules.
 *
 * Folder matching (see policy.h for the contract): a `scope = folder`
 * rule governs a folder its pattern matches as a whole; a
 * `scope = subtree` rule governs a folder when its pattern matches the
 * folder or one of its ancestors, and the root it reports is the
 * highest such ancestor (so `Projects/%` as a subtree makes each
 * project its own root, and `Archive` covers Archive/2024/Q1).  For a
 * literal pattern only one ancestor can match, found without trying
 * the others; a wildcard pattern tries each ancestor up from the top,
 * which costs (separators in the name) wildcard matches at worst. */

#include <string.h>

#include "ascii.h"
#include "policy-private.h"

/* s[0..len) equals the lower-cased stored[0..len) when folded. */
static bool equal_folded(const char *stored, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)stored[i] != mp_ascii_tolower((unsigned char)s[i]))
			return false;
	}
	return true;
}

struct policy_scope *policy_find_domain(const struct mp_policy *policy,
					const char *domain, size_t len,
					uint64_t hash)
{
	struct policy_scope *scope;
	size_t pos = 0;

	while ((scope = policy_htable_next(&policy->domains, hash,
					   &pos)) != NULL) {
		if (scope->name_len == len &&
		    equal_folded(scope->name, domain, len))
			return scope;
	}
	return NULL;
}

struct policy_scope *policy_find_user(const struct mp_policy *policy,
				      const char *user, size_t len,
				      size_t at, uint64_t hash)
{
	struct policy_scope *scope;
	size_t pos = 0;

	while ((scope = policy_htable_next(&policy->users, hash,
					   &pos)) != NULL) {
		if (scope->name_len == len && scope->at == at &&
		    memcmp(scope->name, user, at) == 0 &&
		    equal_folded(scope->name + at, user + at, len - at))
			return scope;
	}
	return NULL;
}

const struct policy_scope *policy_resolve(const struct mp_policy *policy,
					  const char *user)
{
	const struct policy_scope *scope;
	const char *at_ptr;
	size_t len, at;

	if (user == NULL || (policy->users.count == 0 &&
			     policy->domains.count == 0))
		return &policy->default_scope;
	len = strlen(user);
	at_ptr = strrchr(user, '@');
	at = at_ptr == NULL ? len : (size_t)(at_ptr - user);
	if (policy->users.count > 0) {
		scope = policy_find_user(policy, user, len, at,
					 mp_siphash13_fold(policy->hash_key, user,
						     len, at + 1));
		if (scope != NULL)
			return scope;
	}
	if (at < len && policy->domains.count > 0) {
		scope = policy_find_domain(policy, user + at + 1, len - at - 1,
					   mp_siphash13_fold(policy->hash_key,
						       user + at + 1,
						       len - at - 1, 0));
		if (scope != NULL)
			return scope;
	}
	return &policy->default_scope;
}

bool mp_policy_retention(const struct mp_policy *policy, const char *user,
			 struct mp_retention *retention_r)
{
	const struct policy_scope *scope = policy_resolve(policy, user);

	*retention_r = scope->retention;
	return scope->has_retention;
}

size_t mp_policy_folder_rule_count(const struct mp_policy *policy,
				   const char *user)
{
	return policy_resolve(policy, user)->merged_count;
}

bool mp_policy_folder_rule(const struct mp_policy *policy, const char *user,
			   size_t idx, struct mp_folder_rule *rule_r)
{
	const struct policy_scope *scope = policy_resolve(policy, user);

	if (idx >= scope->merged_count)
		return false;
	*rule_r = scope->merged[idx]->rule;
	return true;
}

/* A cheap necessary condition, so that most rules are ruled out
   without running their wildcard: the name starts with the pattern's
   bytes before its first wildcard (the first five in any case when
   they spell INBOX, as the wildcard may fold them). */
static bool prefix_may_match(const struct policy_pattern *pattern,
			     const char *folder, size_t len)
{
	size_t skip = 0;

	if (pattern->literal_bytes > len)
		return false;
	if (pattern->inbox) {
		if (!mp_ascii_memcaseeq(pattern->str, folder, 5))
			return false;
		skip = 5;
	}
	return memcmp(pattern->str + skip, folder + skip,
		      pattern->prefix_len - skip) == 0;
}

/* The root a subtree rule governs folder from: the shortest of the
   folder and its ancestors that the pattern matches.  Folder names come
   from clients, so the ancestors are not tried one by one (quadratic in
   a deep name): the matcher reports the first ancestor boundary where
   the pattern accepts, in one pass. */
static bool subtree_root(const struct policy_pattern *pattern,
			 const char *folder, size_t len, char separator,
			 size_t *root_r)
{
	size_t p = mp_wildcard_match_ancestor(pattern->wildcard, folder, len,
					      separator);

	if (p == MP_WILDCARD_NO_MATCH)
		return false;
	*root_r = p;
	return true;
}

/* Whether rule a beats rule b for the same root. */
static bool rule_beats(const struct policy_folder_rule *const *rules,
		       size_t a, size_t b)
{
	const struct policy_pattern *pa = rules[a]->pattern;
	const struct policy_pattern *pb = rules[b]->pattern;

	if (pa->literal != pb->literal)
		return pa->literal;
	if (pa->literal_bytes != pb->literal_bytes)
		return pa->literal_bytes > pb->literal_bytes;
	return a < b;
}

size_t mp_policy_folder_match(const struct mp_policy *policy, const char *user,
			      const char *folder, char separator,
			      struct mp_folder_match *matches, size_t max)
{
	struct candidate {
		size_t root_len;
		size_t rule;
	} cands[MP_POLICY_MAX_FOLDER_RULES], tmp;
	const struct policy_scope *scope = policy_resolve(policy, user);
	const struct policy_folder_rule *const *rules = scope->merged;
	const struct policy_pattern *pattern;
	size_t i, j, count = 0, len, root;

	if (scope->merged_count == 0 || folder == NULL || folder[0] == '\0')
		return 0;
	len = strlen(folder);
	for (i = 0; i < scope->merged_count; i++) {
		pattern = rules[i]->pattern;
		if (!prefix_may_match(pattern, folder, len))
			continue;
		if (rules[i]->rule.scope == MP_FOLDER_SCOPE_SUBTREE &&
		    separator != '\0') {
			if (!subtree_root(pattern, folder, len, separator,
					  &root))
				continue;
		} else {
			if (pattern->literal && pattern->len != len)
				continue;
			if (!mp_wildcard_match_n(pattern->wildcard, folder, len,
						 separator))
				continue;
			root = len;
		}
		for (j = 0; j < count; j++) {
			if (cands[j].root_len == root)
				break;
		}
		if (j == count)
			cands[count++] = (struct candidate){ root, i };
		else if (rule_beats(rules, i, cands[j].rule))
			cands[j].rule = i;
	}
	/* Deepest root first; count is small (distinct roots). */
	for (i = 1; i < count; i++) {
		tmp = cands[i];
		for (j = i; j > 0 && cands[j - 1].root_len < tmp.root_len; j--)
			cands[j] = cands[j - 1];
		cands[j] = tmp;
	}
	for (i = 0; i < count && i < max; i++) {
		matches[i].rule = rules[cands[i].rule]->rule;
		matches[i].rule_index = cands[i].rule;
		matches[i].root_len = cands[i].root_len;
	}
	return count;
}

const struct mp_listener *
mp_policy_listener_find(const struct mp_policy *policy,
			const char *daemon_name, uint16_t port)
{
	const struct mp_listener *listener;
	size_t len, pos = 0, lo, hi, mid;
	uint64_t hash;

	if (daemon_name != NULL && daemon_name[0] != '\0' &&
	    policy->labels.count > 0) {
		len = strlen(daemon_name);
		hash = mp_siphash13_fold(policy->hash_key, daemon_name, len, len);
		while ((listener = policy_htable_next(&policy->labels, hash,
						      &pos)) != NULL) {
			if (strcmp(listener->label, daemon_name) == 0)
				return listener;
		}
	}
	if (port == 0)
		return NULL;
	lo = 0;
	hi = policy->port_count;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (policy->ports[mid].port == port)
			return policy->ports[mid].listener;
		if (policy->ports[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t mp_policy_listener_count(const struct mp_policy *policy)
{
	return policy->listener_count;
}

const struct mp_listener *
mp_policy_listener_at(const struct mp_policy *policy, size_t idx)
{
	return idx < policy->listener_count ? policy->listeners[idx] : NULL;
}

const struct mp_milter_settings *
mp_policy_milter(const struct mp_policy *policy)
{
	return &policy->milter;
}

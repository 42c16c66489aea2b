/* policy-folder.c: folder patterns and which rules govern a folder,
 * shared by the file's rules (policy-lookup.c) and a user's rules with
 * host overrides (policy-user.c).
 *
 * Patterns are written with '/' as the hierarchy separator whatever the
 * namespace's is (wildcard.h), and a leading INBOX word in any case is
 * stored as "INBOX": IMAP has one INBOX, so `folder inbox` and
 * `folder INBOX` are one rule (a duplicate in one block, an override
 * across blocks).
 *
 * Matching (see policy.h for the contract): a `scope = folder` rule
 * governs a folder its pattern matches as a whole; a `scope = subtree`
 * rule governs a folder when its pattern matches the folder or one of
 * its ancestors, and the root it reports is the highest such ancestor
 * (so `Projects/%` as a subtree makes each project its own root, and
 * `Archive` covers Archive/2024/Q1).  The root is found in one pass of
 * the matcher over the name (mp_wildcard_match_ancestor()), so a deep
 * name a client made up costs linear time. */

#include <string.h>

#include "ascii.h"
#include "policy-private.h"

#define INBOX_LEN 5

void policy_pattern_canonical(const char *word, size_t len, char *buf)
{
	memcpy(buf, word, len);
	buf[len] = '\0';
	if (len >= INBOX_LEN && mp_ascii_memcaseeq(word, "INBOX", INBOX_LEN) &&
	    (len == INBOX_LEN || word[INBOX_LEN] == '/'))
		memcpy(buf, "INBOX", INBOX_LEN);
}

void policy_pattern_init(struct policy_pattern *pattern,
			 struct mp_wildcard *wildcard)
{
	size_t i;

	pattern->wildcard = wildcard;
	pattern->str = mp_wildcard_pattern(wildcard);
	pattern->len = strlen(pattern->str);
	pattern->literal = mp_wildcard_is_literal(wildcard);
	pattern->prefix_len = strcspn(pattern->str, "*%");
	pattern->literal_bytes = 0;
	for (i = 0; i < pattern->len; i++) {
		if (pattern->str[i] != '*' && pattern->str[i] != '%')
			pattern->literal_bytes++;
	}
	pattern->inbox = pattern->prefix_len >= INBOX_LEN &&
		memcmp(pattern->str, "INBOX", INBOX_LEN) == 0;
}

uint64_t policy_pattern_hash(const struct mp_policy *policy, const char *str,
			     size_t len)
{
	return mp_siphash13_fold(policy->hash_key, str, len, len);
}

const struct policy_pattern *policy_pattern_find(const struct mp_policy *policy,
						 const char *str, size_t len)
{
	const struct policy_pattern *pattern;
	uint64_t hash = policy_pattern_hash(policy, str, len);
	size_t pos = 0;

	while ((pattern = policy_htable_next(&policy->patterns, hash,
					     &pos)) != NULL) {
		if (pattern->len == len && memcmp(pattern->str, str, len) == 0)
			return pattern;
	}
	return NULL;
}

/* A cheap necessary condition, so that most rules are ruled out
   without running their wildcard: the name starts with the pattern's
   bytes before its first wildcard (under the separator rule; the first
   five in any case when they spell INBOX, as the matcher folds them). */
static inline bool prefix_may_match(const struct policy_pattern *pattern,
			     const char *folder, size_t len, char separator)
{
	size_t skip = 0;

	if (pattern->literal_bytes > len)
		return false;
	if (pattern->inbox) {
		if (!mp_ascii_memcaseeq(pattern->str, folder, INBOX_LEN))
			return false;
		skip = INBOX_LEN;
	}
	/* '/' and no hierarchy: every byte is itself (the common case, and
	   the one lookups must not pay a call for) */
	if (separator == '/' || separator == '\0')
		return memcmp(pattern->str + skip, folder + skip,
			      pattern->prefix_len - skip) == 0;
	return mp_wildcard_literal_equal(pattern->str + skip, folder + skip,
					 pattern->prefix_len - skip, separator);
}

/* Whether rule a beats rule b for the same root. */
static inline bool rule_beats(const struct policy_folder_rule *const *rules,
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

/* The matcher, inlined into its two callers below: a lookup does not
   pay a call for sharing it. */
static inline __attribute__((always_inline)) size_t
folder_match(const struct policy_folder_rule *const *rules, size_t rule_count,
	     const char *folder, char separator,
	     struct mp_folder_match *matches, size_t max)
{
	struct candidate {
		size_t root_len;
		size_t rule;
	} cands[MP_POLICY_MAX_FOLDER_RULES], tmp;
	const struct policy_pattern *pattern;
	size_t i, j, count = 0, len, root;

	if (rule_count == 0 || folder == NULL || folder[0] == '\0')
		return 0;
	len = strlen(folder);
	for (i = 0; i < rule_count; i++) {
		pattern = rules[i]->pattern;
		if (!prefix_may_match(pattern, folder, len, separator))
			continue;
		if (rules[i]->rule.scope == MP_FOLDER_SCOPE_SUBTREE &&
		    separator != '\0') {
			root = mp_wildcard_match_ancestor(pattern->wildcard,
							  folder, len,
							  separator);
			if (root == MP_WILDCARD_NO_MATCH)
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

size_t policy_folder_match(const struct policy_folder_rule *const *rules,
			   size_t rule_count, const char *folder,
			   char separator, struct mp_folder_match *matches,
			   size_t max)
{
	return folder_match(rules, rule_count, folder, separator, matches,
			    max);
}

size_t mp_policy_folder_match(const struct mp_policy *policy, const char *user,
			      const char *folder, char separator,
			      struct mp_folder_match *matches, size_t max)
{
	const struct policy_scope *scope = policy_resolve(policy, user);

	return folder_match(scope->merged, scope->merged_count, folder,
			    separator, matches, max);
}

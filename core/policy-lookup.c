/* policy-lookup.c: the questions hosts ask a loaded policy.
 *
 * All of them are read-only and allocation-free, so any number of
 * threads may ask at once.  A user resolves to at most two hash probes
 * (the user, then the user's domain) and falls back to the default
 * scope; the folder questions then scan that scope's merged rules
 * (policy-folder.c). */

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

struct mp_listener *policy_listener_by_label(const struct mp_policy *policy,
					     const char *label, size_t len)
{
	struct mp_listener *listener;
	uint64_t hash;
	size_t pos = 0;

	if (policy->labels.count == 0)
		return NULL;
	hash = mp_siphash13_fold(policy->hash_key, label, len, len);
	while ((listener = policy_htable_next(&policy->labels, hash,
					      &pos)) != NULL) {
		if (strlen(listener->label) == len &&
		    memcmp(listener->label, label, len) == 0)
			return listener;
	}
	return NULL;
}

const struct policy_listener *
policy_listener_of(const struct mp_policy *policy,
		   const struct mp_listener *listener)
{
	if (listener == NULL ||
	    policy_listener_by_label(policy, listener->label,
				     strlen(listener->label)) != listener)
		return NULL;
	/* every listener of a policy is the pub of a policy_listener */
	return (const struct policy_listener *)listener;
}

const struct mp_listener *
mp_policy_listener_find(const struct mp_policy *policy,
			const char *daemon_name, uint16_t port)
{
	const struct mp_listener *listener;
	size_t lo, hi, mid;

	if (daemon_name != NULL && daemon_name[0] != '\0') {
		listener = policy_listener_by_label(policy, daemon_name,
						    strlen(daemon_name));
		if (listener != NULL)
			return listener;
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

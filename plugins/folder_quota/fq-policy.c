/* fq-policy.c: the folder rules in effect for one user (see fq-policy.h).
 *
 * The policy file is found through the mailpolicy_config setting and
 * loaded once per process state of the file (fq-glue.c); a file that does
 * not load leaves folder limits off, and the error is logged once with
 * its file, line and column. */

#include "lib.h"
#include "mail-user.h"

#include "fq-glue.h"
#include "fq-policy.h"

struct fq_rules {
	struct mp_policy *policy;
	char *username;
	size_t rule_count;
};

int fq_rules_init(struct mail_user *user, struct fq_rules **rules_r)
{
	struct fq_rules *rules;
	struct mp_policy *policy;
	int ret;

	*rules_r = NULL;
	if ((ret = fq_glue_policy_get(user, &policy)) <= 0)
		return ret;
	size_t rule_count = mp_policy_folder_rule_count(policy, user->username);
	if (rule_count == 0) {
		mp_policy_unref(&policy);
		return 0;
	}
	rules = i_new(struct fq_rules, 1);
	rules->rule_count = rule_count;
	rules->policy = policy;
	rules->username = i_strdup(user->username);
	*rules_r = rules;
	return 1;
}

void fq_rules_deinit(struct fq_rules **_rules)
{
	struct fq_rules *rules = *_rules;

	if (rules == NULL)
		return;
	*_rules = NULL;
	mp_policy_unref(&rules->policy);
	i_free(rules->username);
	i_free(rules);
}

bool fq_rules_is_stale(const struct fq_rules *rules)
{
	return mp_policy_is_stale(rules->policy);
}

size_t fq_rules_match(const struct fq_rules *rules, const char *name,
		      char sep, struct fq_match *matches, size_t max)
{
	struct mp_folder_match *m;
	size_t i, count, n = 0;

	/* at most one match per rule */
	m = t_new(struct mp_folder_match, rules->rule_count);
	count = mp_policy_folder_match(rules->policy, rules->username, name,
				       sep, m, rules->rule_count);
	if (count > rules->rule_count)
		count = rules->rule_count;
	for (i = 0; i < count; i++) {
		if (m[i].rule.storage == 0 && m[i].rule.messages == 0)
			continue;
		if (n < max) {
			matches[n].root_len = m[i].root_len;
			matches[n].scope = m[i].rule.scope;
			matches[n].storage = m[i].rule.storage;
			matches[n].messages = m[i].rule.messages;
			matches[n].expunge_oldest = FALSE;
			matches[n].rule_index = m[i].rule_index;
		}
		n++;
	}
	return n;
}

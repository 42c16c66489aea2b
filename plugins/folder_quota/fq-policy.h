#ifndef FQ_POLICY_H
#define FQ_POLICY_H

/* fq-policy: the folder rules in effect for one user, as folder_quota
 * uses them: the policy file's folder_quota blocks for the user plus the
 * user's folder_quota_rule* userdb fields, and the match of a folder
 * name against them.  A thin layer over the policy core: no Dovecot
 * storage type appears here. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/policy.h"

struct mail_user;
struct fq_rules;

/* One rule that governs a folder. */
struct fq_match {
	/* The governed folder is name[0..root_len) of the matched name. */
	size_t root_len;
	enum mp_folder_scope scope;
	uint64_t storage;	/* bytes; 0 = no limit */
	uint64_t messages;	/* 0 = no limit */
	bool expunge_oldest;	/* when_full = expunge_oldest */
	size_t rule_index;
};

/* The user's rules from the current policy.  Returns 1 and *rules_r when
   at least one folder rule applies to the user, 0 when none does (the
   plugin is inert for the user), -1 when the policy cannot be loaded
   (logged once per file state; folder limits are off). */
int fq_rules_init(struct mail_user *user, struct fq_rules **rules_r);
void fq_rules_deinit(struct fq_rules **rules);

/* True when the policy file changed since rules were made, so the caller
   should make them again. */
bool fq_rules_is_stale(const struct fq_rules *rules);

/* The rules governing name (a folder name without the namespace prefix,
   with sep as hierarchy separator), deepest governed folder first; rules
   without any limit are left out.  Fills at most max entries and returns
   the number of matches there are. */
size_t fq_rules_match(const struct fq_rules *rules, const char *name,
		      char sep, struct fq_match *matches, size_t max);

#endif

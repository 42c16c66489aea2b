/* fq-policy.c: the folder rules in effect for one user (see fq-policy.h).
 *
 * The policy comes from the shared glue's per-process cache (a file that
 * does not load leaves folder limits off; the glue logs its error once
 * with file, line and column); the user's folder_quota_rule* fields are
 * applied in the order of their numbers, a refused one is logged and the
 * file's value stands. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strnum.h"
#include "mail-user.h"

#include "mp-dovecot.h"
#include "fq-policy.h"

#define FQ_RULE_FIELD "folder_quota_rule"

struct fq_rules {
	struct mp_user_policy *user_policy;
	size_t rule_count;
};

struct fq_field {
	const char *name, *value;
	unsigned int number;
};

static void fq_field_collect(void *context, const char *name, const char *value)
{
	ARRAY(struct fq_field) *fields = context;
	const char *suffix = name + strlen(FQ_RULE_FIELD);
	struct fq_field *field;
	unsigned int number = 1;

	/* folder_quota_rule = 1, folder_quota_rule2 = 2, ...; anything else
	   goes to the core, which says it is not ours */
	if (*suffix != '\0' && str_to_uint(suffix, &number) < 0)
		number = UINT_MAX;
	field = array_append_space(fields);
	field->name = name;
	field->value = value;
	field->number = number;
}

static int fq_field_cmp(const struct fq_field *f1, const struct fq_field *f2)
{
	if (f1->number != f2->number)
		return f1->number < f2->number ? -1 : 1;
	return strcmp(f1->name, f2->name);
}

static void fq_rules_apply_fields(struct mail_user *user,
				  struct mp_user_policy *user_policy)
{
	ARRAY(struct fq_field) fields;
	const struct fq_field *field;
	const char *error;

	t_array_init(&fields, 4);
	mp_dovecot_user_fields(user, FQ_RULE_FIELD, fq_field_collect, &fields);
	array_sort(&fields, fq_field_cmp);
	array_foreach(&fields, field) {
		if (mp_user_policy_set_field(user_policy, field->name,
					     field->value, &error) < 0) {
			e_warning(user->event, "folder_quota: userdb field "
				  "%s=%s ignored: %s", field->name,
				  field->value, error);
		}
	}
}

int fq_rules_init(struct mail_user *user, struct fq_rules **rules_r)
{
	struct mp_user_policy *user_policy;
	struct mp_policy *policy;
	struct fq_rules *rules;
	size_t rule_count;
	int ret;

	*rules_r = NULL;
	policy = mp_dovecot_policy_get(user, NULL);
	if (policy == NULL)
		return -1;
	ret = mp_user_policy_new(mp_dovecot_env(), policy, user->username,
				 &user_policy);
	mp_policy_unref(&policy);
	if (ret < 0)
		i_fatal_status(FATAL_OUTOFMEM, "folder_quota: out of memory");
	T_BEGIN {
		fq_rules_apply_fields(user, user_policy);
	} T_END;
	rule_count = mp_user_policy_folder_rule_count(user_policy);
	if (rule_count == 0) {
		mp_user_policy_free(&user_policy);
		return 0;
	}
	rules = i_new(struct fq_rules, 1);
	rules->user_policy = user_policy;
	rules->rule_count = rule_count;
	*rules_r = rules;
	return 1;
}

void fq_rules_deinit(struct fq_rules **_rules)
{
	struct fq_rules *rules = *_rules;

	if (rules == NULL)
		return;
	*_rules = NULL;
	mp_user_policy_free(&rules->user_policy);
	i_free(rules);
}

bool fq_rules_is_stale(const struct fq_rules *rules)
{
	return mp_policy_is_stale(mp_user_policy_policy(rules->user_policy));
}

size_t fq_rules_match(const struct fq_rules *rules, const char *name,
		      char sep, struct fq_match *matches, size_t max)
{
	struct mp_folder_match *m;
	size_t i, count, n = 0;

	/* at most one match per rule */
	m = t_new(struct mp_folder_match, rules->rule_count);
	count = mp_user_policy_folder_match(rules->user_policy, name, sep,
					    m, rules->rule_count);
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
			matches[n].expunge_oldest =
				m[i].rule.when_full == MP_WHEN_FULL_EXPUNGE_OLDEST;
			matches[n].rule_index = m[i].rule_index;
		}
		n++;
	}
	return n;
}

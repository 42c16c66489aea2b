#include "lib.h"
#include "mail-user.h"
#include "pop3-retention-private.h"

void pop3_retention_mail_user_created(struct mail_user *user)
{
	struct mp_policy *policy;
	struct mp_retention ret;
	const char *error, *v;

	policy = mp_dovecot_policy_get(user, &error);
	if (policy == NULL) {
		e_debug(user->event, "pop3_retention: inert: %s", error);
		return;
	}
	(void)mp_policy_retention(policy, user->username, &ret);
	v = mp_dovecot_user_field(user, "pop3_retention_on_dele");
	e_debug(user->event, "pop3_retention: loaded %s keep=%llu on_dele field=%s",
	       mp_policy_name(policy), (unsigned long long)ret.keep_after_retrieval,
	       v == NULL ? "(none)" : v);
	mp_policy_unref(&policy);
}

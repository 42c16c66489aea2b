/* symbols-probe.c: a stand-in for a Dovecot plugin, built as a .so with
 * the whole of libmailpolicy.a linked in (`make symbols-check`).  Its one
 * entry point must be the only symbol it exports: the core is compiled
 * with hidden visibility, so two such modules loaded into one process
 * (doveadm loads both plugins) never bind each other's copy of it. */

#include "mailpolicy/policy.h"

int mailpolicy_probe_entry(const char *text, unsigned long size);

__attribute__((visibility("default")))
int mailpolicy_probe_entry(const char *text, unsigned long size)
{
	struct mp_policy *policy;
	struct mp_error error;

	if (mp_policy_load_string(NULL, "probe", text, size, &policy,
				  &error) < 0)
		return -1;
	mp_policy_unref(&policy);
	return 0;
}

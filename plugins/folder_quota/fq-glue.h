#ifndef FQ_GLUE_H
#define FQ_GLUE_H

/* fq-glue: LOCAL STAND-IN for the shared Dovecot glue (plugins/common,
 * branch dovecot): the mailpolicy_config setting, the per-process policy
 * cache and the userdb fields.  Replaced by plugins/common once merged. */

#include "mailpolicy/policy.h"

struct mail_user;

/* The policy of mailpolicy_config (default MP_POLICY_DEFAULT_PATH) with a
   reference for the caller: returns 1 and *policy_r, or -1 when the file
   cannot be loaded (logged once per state of the file, with file, line and
   column; folder limits are then off). */
int fq_glue_policy_get(struct mail_user *user, struct mp_policy **policy_r);

/* A per-user setting: a userdb field (and on 2.3 also a plugin {}
   setting) by its full name, or NULL. */
const char *fq_glue_user_setting(struct mail_user *user, const char *name);

/* The env the core allocates and logs with in Dovecot processes. */
const struct mp_env *fq_glue_env(void);

void fq_glue_deinit(void);

#endif

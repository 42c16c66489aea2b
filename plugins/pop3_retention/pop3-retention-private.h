#ifndef POP3_RETENTION_PRIVATE_H
#define POP3_RETENTION_PRIVATE_H

/* pop3_retention: server-side retention of mail POP3 clients leave on the
 * server (DESIGN.md, "pop3_retention").  Files by role:
 *   pop3-retention-plugin.c   registration
 *   pop3-retention-user.c     the user's effective retention (policy +
 *                             userdb overrides), the user context
 */

#include "mp-dovecot.h"
#include "mail-user.h"

#define POP3_RETENTION_NAME "pop3_retention"

struct mail_user;

void pop3_retention_mail_user_created(struct mail_user *user);
void pop3_retention_doveadm_register(void);

#endif

#ifndef MAILPOLICY_CLI_EXPLAIN_H
#define MAILPOLICY_CLI_EXPLAIN_H

/* explain: the sections `mailpolicy explain` prints, one function each.
 * Every section starts with a header line ending in ':' at column 0;
 * explain.c separates sections with one empty line. */

#include <stdint.h>
#include <stdio.h>

#include "mailpolicy/policy.h"

/* "pop3_retention for USER:" and the four keys, as the plugins see them
   for the user (file blocks and userdb overrides). */
void explain_retention(FILE *out, const struct mp_user_policy *user_policy);
/* "folder_quota for USER:" and every rule of the user, the file's merged
   rules then those the overrides add. */
void explain_folder_rules(FILE *out, const struct mp_user_policy *user_policy);
/* "folder_quota for USER, folder NAME:" and the rules governing folder,
   each under its quota root, deepest root first.  Returns 0, or -1
   (printing nothing) when out of memory. */
int explain_folder(FILE *out, const struct mp_user_policy *user_policy,
		   const char *folder, char separator);
/* The listener a session gets with {daemon_name} name (may be NULL) on
   port (0 = unknown), or the "no listener ..." line.  With a login (may
   be NULL) the rate keys are that login's, rate_map applied, each with
   the listener line or map entry it came from. */
void explain_listener(FILE *out, const struct mp_policy *policy,
		      const char *name, uint16_t port, const char *login);
/* "milter:" and its keys. */
void explain_milter(FILE *out, const struct mp_policy *policy);

#endif

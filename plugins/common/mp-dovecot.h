#ifndef MP_DOVECOT_H
#define MP_DOVECOT_H

/* mp-dovecot: the Dovecot glue shared by mailpolicy's plugins.
 *
 * One thin compatibility layer for Dovecot 2.3 and 2.4, chosen at build
 * time from the Dovecot headers found (MP_DOVECOT_24).  It gives a plugin:
 *   - the process-wide mp_env (Dovecot's allocator, logging through an
 *     event with the plugin's log prefix, "pop3_retention: ");
 *   - the `mailpolicy_config` setting of a user (2.3: plugin {} setting,
 *     2.4: top-level setting declared by our settings module);
 *   - the per-process policy (the core's holder): the user's current
 *     policy, re-read when the file changed, NULL (logged once per file
 *     state) when it cannot be loaded: the plugin is then inert; and the
 *     user's effective policy with the override fields applied;
 *   - the per-user override fields (userdb extra fields; on 2.3 also
 *     plugin {} settings), trimmed.
 * Doveadm command registration is in mp-dovecot-doveadm.h.
 *
 * Include it after "lib.h" (Dovecot's rule: lib.h first).  Everything in
 * plugins/ is compiled with hidden visibility: a plugin marks its entry
 * points (NAME_plugin_version, _init, _deinit, _preinit) with MP_EXPORT,
 * and nothing else leaves the .so.  How to use it: plugins/common/README.md.
 */

#include "mailpolicy/policy.h"

#if DOVECOT_VERSION_MAJOR > 2 || \
	(DOVECOT_VERSION_MAJOR == 2 && DOVECOT_VERSION_MINOR >= 4)
#  define MP_DOVECOT_24 1
#else
#  define MP_DOVECOT_24 0
#endif

/* For the few symbols Dovecot must find in a plugin. */
#define MP_EXPORT __attribute__((visibility("default")))

/* The setting that names the policy file, and its default. */
#define MP_DOVECOT_CONFIG_SETTING "mailpolicy_config"
/* Dovecot 2.3's login processes cannot read plugin {} settings: there the
   file is named by this environment variable (Dovecot passes it with
   import_environment), else the default. */
#define MP_DOVECOT_CONFIG_ENV "MAILPOLICY_CONFIG"

struct event;
struct mail_user;
struct module;

/* Call first in NAME_plugin_init() (or _preinit()): plugin_name is the log
   prefix without ": " ("pop3_retention") and must be static.  Creates the
   process-level event and env.  Safe to call twice (preinit + init). */
void mp_dovecot_init(const char *plugin_name);
/* Call last in NAME_plugin_deinit(): drops the cached policies. */
void mp_dovecot_deinit(void);

/* The plugin name given to mp_dovecot_init(). */
const char *mp_dovecot_plugin_name(void);
/* The process-level event: log prefix "NAME: ", parent none.  For
   messages about no particular user (policy load errors). */
struct event *mp_dovecot_event(void);
/* A new event under parent (e.g. user->event) with the plugin's log
   prefix appended; the caller unrefs it. */
struct event *mp_dovecot_event_create(struct event *parent);
/* The env the core gets: i_malloc/i_realloc/i_free, and logging through
   mp_dovecot_event().  Static storage, valid until mp_dovecot_deinit(). */
const struct mp_env *mp_dovecot_env(void);

/* True when the running Dovecot binary is name ("pop3", "doveadm", ...). */
bool mp_dovecot_binary_is(const char *name);

/* The user's mailpolicy_config (the default path when unset; "" when set
   empty or unreadable on 2.4, which loads no policy), allocated from
   user->pool. */
/* (mp-dovecot-user.c: the functions that take a mail_user need
   lib-storage; the others only libdovecot, for login plugins.) */
const char *mp_dovecot_config_path(struct mail_user *user);

/* The per-user override field `name` ("pop3_retention_on_dele"), blanks
   around the value removed, allocated from user->pool; NULL when the user
   has no such field.  2.4: userdb extra fields.  2.3: userdb extra
   fields and plugin {} settings (userdb wins, as Dovecot merges them). */
const char *mp_dovecot_user_field(struct mail_user *user, const char *name);

/* Calls cb for every override field whose name starts with prefix
   (values trimmed, from user->pool), in no particular order. */
void mp_dovecot_user_fields(struct mail_user *user, const char *prefix,
			    void (*cb)(void *ctx, const char *name,
				       const char *value),
			    void *ctx);

/* The policy file of a process that has no mail user (a login process):
   2.4: mailpolicy_config (top-level); 2.3: $MAILPOLICY_CONFIG or the
   default path.  From the data stack. */
const char *mp_dovecot_config_path_process(void);
/* The policy of the file path (absolute), as mp_dovecot_policy_get(). */
struct mp_policy *mp_dovecot_policy_get_path(const char *path,
					     const char **error_r);

/* The policy for user: a new reference the caller drops with
   mp_policy_unref(), or NULL when the file cannot be loaded.  Kept by the
   core's holder (one per path and process): re-read when the file or a
   file it includes changed, a broken state read and logged (as an error,
   "FILE:LINE:COL: reason") once, then NULL without reading until it
   changes; never a stale policy.  *error_r (may be NULL) gets the error
   text, valid until the next call. */
struct mp_policy *mp_dovecot_policy_get(struct mail_user *user,
					const char **error_r);

/* The user's effective policy: the file's blocks for user->username plus
   the user's override fields whose names start with field_prefix
   ("pop3_retention_", "folder_quota_rule"), fed by full name.  A field
   the core refuses is logged as a warning on event (user, field, reason)
   and the file's value stands.  NULL when the policy cannot be loaded
   (as mp_dovecot_policy_get()).  Free with mp_user_policy_free(); it
   holds its own policy reference, and its strings live as long as it. */
struct mp_user_policy *
mp_dovecot_user_policy(struct mail_user *user, const char *field_prefix,
		       struct event *event, const char **error_r);

#endif

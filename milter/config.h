#ifndef MILTER_CONFIG_H
#define MILTER_CONFIG_H

/* config: what one loaded policy file means to the running milter: the
 * policy, its rate store, the HMAC key, and the stages it needs.
 *
 * A config is immutable and reference-counted.  config_current() hands a
 * session the current config with a reference, which the session keeps
 * until it ends: a reload (SIGUSR1) swaps in a new config for new
 * sessions only, so sessions in flight finish on the policy they began
 * with.  A reload validates everything (the file, the key file, the
 * store's settings and password file: see secret.h) before the swap and
 * keeps the old
 * config on any error.  The rate store outlives reloads that do not
 * change its settings (a memory store keeps its counts). */

#include <stdbool.h>
#include <stddef.h>

#include "mailpolicy/policy.h"
#include "mailpolicy/rate.h"
#include "audit.h"

/* Stages a policy needs beyond connect and MAIL (always taken). */
#define CONFIG_STAGE_RCPT	0x1	/* count recipients (recipient
					   rate keys, max_recipients) */
#define CONFIG_STAGE_RCPT_REPLY	0x2	/* refuse recipients:
					   max_recipients */
#define CONFIG_STAGE_HEADER	0x4	/* audit header: drop forged ones;
					   header_from */
#define CONFIG_STAGE_BODY	0x8	/* max_message_size: count bytes */
#define CONFIG_STAGE_EOM	0x10	/* rates, size, headers */
#define CONFIG_STAGE_HOLD	0x20	/* over_limit = hold: quarantine */

struct config_store;

struct milter_config {
	int refcount;
	struct mp_policy *policy;
	const struct mp_milter_settings *milter;	/* of policy */
	struct config_store *store;	/* NULL: no listener has a rate */
	unsigned char hmac_key[AUDIT_KEY_MAX];
	size_t hmac_key_len;		/* 0 = unsigned */
	unsigned int stages;		/* CONFIG_STAGE_* */
	unsigned int generation;	/* 1 for the first load */
};

/* Loads path into a new config (reusing prev's store when its settings
   are unchanged; prev may be NULL).  Returns it with one reference, or
   NULL with a message naming the file (and line) in error. */
struct milter_config *config_load(const char *path,
				  struct milter_config *prev,
				  char *error, size_t error_size);

struct milter_config *config_ref(struct milter_config *config);
void config_unref(struct milter_config **config);

/* The rate store of a config (NULL when it has none). */
struct mp_rate_store *config_rate_store(const struct milter_config *config);

/* The process's current config: set once at start, swapped by reload.
   config_current() returns it with a reference (never NULL after
   config_install()). */
void config_install(struct milter_config *config);
struct milter_config *config_current(void);

/* Re-reads path; on success installs the new config and returns 0, else
   keeps the current one and returns -1 with the reason in error. */
int config_reload(const char *path, char *error, size_t error_size);

/* Drops the current config (at exit). */
void config_shutdown(void);

#endif

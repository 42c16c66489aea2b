#ifndef MAILPOLICY_POLICY_H
#define MAILPOLICY_POLICY_H

/* mp_policy: one mailpolicy.conf, parsed and compiled into an immutable,
 * reference-counted object with hash lookups by user and domain.
 *
 * A file loads whole or not at all: the first error stops the parse and
 * is reported as "FILE:LINE:COL: reason"; no partial policy ever exists.
 * A loaded policy is never modified, so any number of threads may read it
 * at once; mp_policy_ref()/mp_policy_unref() are atomic, which is how the
 * milter swaps in a reloaded policy while sessions still use the old one.
 *
 * Everything a lookup returns (strings, arrays) is owned by the policy
 * and lives as long as the caller holds a reference.
 *
 * Selectors: `pop3_retention` and `folder_quota` blocks apply to everyone
 * (no selector), to a `domain NAME` or to a `user ADDRESS`.  Per key, the
 * most specific block that sets it wins: user > domain > default >
 * built-in.  Domains compare case-insensitively; a user address compares
 * its local part exactly and its domain part case-insensitively.  A user
 * name without '@' matches only `user` blocks naming it exactly.
 *
 * The language in brief (mailpolicy.conf(5) has it all): lines end in LF
 * (a CR before the LF is dropped, a UTF-8 BOM at the start skipped);
 * `#` starts a comment outside "strings", whose only escapes are \" and
 * \\; `{` ends its line and `}` stands alone; blocks nest two deep
 * (folder_quota { folder PATTERN { } }).  For every size and count, 0
 * means "no limit", so a more specific block can lift a limit. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/cidr.h"
#include "mailpolicy/env.h"
#include "mailpolicy/units.h"

#define MP_POLICY_DEFAULT_PATH "/etc/mailpolicy/mailpolicy.conf"
/* Longest accepted line, in bytes, without its newline. */
#define MP_POLICY_MAX_LINE 4096
/* Largest accepted file. */
#define MP_POLICY_MAX_FILE_SIZE (64u * 1024 * 1024)
#define MP_ERROR_MAX 1024

/* The first error of a failed load. */
struct mp_error {
	/* "FILE:LINE:COL: reason", or "FILE: reason" when the error is not
	   about a place in the file (cannot open, too large). */
	char text[MP_ERROR_MAX];
	unsigned int line;	/* 1-based, 0 = not about a line */
	unsigned int column;	/* 1-based, in bytes, 0 = not about a column */
};

struct mp_policy;

/* Reads and compiles path.  Returns 0 and a policy holding one reference,
   or -1 and fills *error_r (a missing file is an error).  An empty file
   (or one of only comments) is valid and configures nothing. */
int mp_policy_load_file(const struct mp_env *env, const char *path,
			struct mp_policy **policy_r, struct mp_error *error_r);

/* The same for data[0..size) in memory; name stands for the file name in
   errors.  data need not be NUL-terminated and may contain NUL bytes
   (which are errors). */
int mp_policy_load_string(const struct mp_env *env, const char *name,
			  const char *data, size_t size,
			  struct mp_policy **policy_r, struct mp_error *error_r);

/* Adds a reference; returns policy. */
struct mp_policy *mp_policy_ref(struct mp_policy *policy);
/* Drops a reference (freeing on the last) and sets *policy to NULL. */
void mp_policy_unref(struct mp_policy **policy);

/* The path or name it was loaded from. */
const char *mp_policy_name(const struct mp_policy *policy);

/* For files: true when path now names a different file or the file's
   size or mtime changed since the load (or it cannot be stat()ed).
   Always false for policies loaded from a string. */
bool mp_policy_is_stale(const struct mp_policy *policy);

/* Whether the file has any block of that kind. */
bool mp_policy_has_retention(const struct mp_policy *policy);
bool mp_policy_has_folder_quota(const struct mp_policy *policy);
bool mp_policy_has_listeners(const struct mp_policy *policy);
bool mp_policy_has_milter(const struct mp_policy *policy);

/* Where an effective value came from, for `mailpolicy explain` and logs. */
enum mp_origin_scope {
	MP_ORIGIN_BUILTIN,	/* not set anywhere: built-in default */
	MP_ORIGIN_DEFAULT,	/* block without selector */
	MP_ORIGIN_DOMAIN,
	MP_ORIGIN_USER,
	MP_ORIGIN_OVERRIDE,	/* set by the host, e.g. a userdb field */
};
struct mp_origin {
	enum mp_origin_scope scope;
	const char *selector;	/* domain or user; NULL otherwise */
	unsigned int line;	/* line of the key; 0 for BUILTIN/OVERRIDE */
};
/* "built-in", "default", "domain", "user", "override". */
const char *mp_origin_scope_name(enum mp_origin_scope scope);

/* ---- pop3_retention ---- */

enum mp_dele_action {
	MP_DELE_EXPUNGE,	/* built-in: stock behaviour */
	MP_DELE_DEFER,		/* expunge dele_defer_secs after the QUIT */
	MP_DELE_HIDE,		/* hidden from POP3, kept until retention ends */
};
enum mp_retrieve_action {
	MP_RETRIEVE_NONE,	/* built-in */
	MP_RETRIEVE_SEEN,	/* set \Seen */
	MP_RETRIEVE_MOVE,	/* move to retrieve_mailbox */
};
enum mp_retention_key {
	MP_RETENTION_KEEP_AFTER_RETRIEVAL,
	MP_RETENTION_ON_DELE,
	MP_RETENTION_ON_RETRIEVE,
	MP_RETENTION_MAX_RETAINED_SIZE,
	MP_RETENTION_KEY_COUNT
};
struct mp_retention {
	uint64_t keep_after_retrieval;	/* seconds; MP_DURATION_NEVER (built-in) */
	enum mp_dele_action on_dele;
	uint64_t dele_defer_secs;	/* when on_dele == MP_DELE_DEFER */
	enum mp_retrieve_action on_retrieve;
	const char *retrieve_mailbox;	/* when on_retrieve == MP_RETRIEVE_MOVE */
	uint64_t max_retained_size;	/* bytes; 0 = no cap (built-in) */
	struct mp_origin origin[MP_RETENTION_KEY_COUNT];
};

/* Fills *retention_r with the effective retention of user (NULL is
   treated as a user no selector names).  Returns true when at least one
   pop3_retention block applies to the user, false when none does (then
   *retention_r is the built-in stock behaviour and the plugin stays
   inert for the user).  Never allocates; any thread. */
bool mp_policy_retention(const struct mp_policy *policy, const char *user,
			 struct mp_retention *retention_r);

/* Applies one per-user override, with the policy file's syntax for the
   key ("keep_after_retrieval", "on_dele", "on_retrieve",
   "max_retained_size"), marking its origin MP_ORIGIN_OVERRIDE.  No
   quoting: "defer 7d", and "move Old Mail" moves to "Old Mail" (all
   after the first run of spaces).  value must outlive *retention
   (on_retrieve = move keeps a pointer into it).  Returns 0, or -1 with
   a static *error_r; *retention is unchanged then. */
int mp_retention_set(struct mp_retention *retention, const char *key,
		     const char *value, const char **error_r);

/* ---- folder_quota ---- */

enum mp_folder_scope {
	MP_FOLDER_SCOPE_FOLDER,	/* each matching folder alone (built-in) */
	MP_FOLDER_SCOPE_SUBTREE,/* the folder and all below share one limit */
};
enum mp_folder_key {
	MP_FOLDER_STORAGE,
	MP_FOLDER_MESSAGES,
	MP_FOLDER_SCOPE,
	MP_FOLDER_KEY_COUNT
};
struct mp_folder_rule {
	const char *pattern;	/* as written, e.g. "Trash" or "Projects/%" */
	uint64_t storage;	/* bytes; 0 = no limit */
	uint64_t messages;	/* 0 = no limit */
	enum mp_folder_scope scope;
	struct mp_origin origin[MP_FOLDER_KEY_COUNT];
};

/* The merged folder rules of user (rules merge by pattern across
   default, domain and user blocks, key by key; patterns compare byte for
   byte as written).  Order: the default block's patterns in file order,
   then patterns the domain block adds, then those the user block adds.
   Indexes 0..count-1 are stable for a policy and user. */
size_t mp_policy_folder_rule_count(const struct mp_policy *policy,
				   const char *user);
/* Fills *rule_r with rule idx; false when idx >= count. */
bool mp_policy_folder_rule(const struct mp_policy *policy, const char *user,
			   size_t idx, struct mp_folder_rule *rule_r);

struct mp_folder_match {
	struct mp_folder_rule rule;
	size_t rule_index;	/* as for mp_policy_folder_rule() */
	/* The governed folder (the quota root) is folder[0..root_len):
	   the folder itself for scope folder, the folder or the ancestor the
	   pattern matched for scope subtree. */
	size_t root_len;
};

/* The rules that govern folder for user, with separator as the mailbox
   hierarchy separator (patterns are written with the namespace's own
   separator; '\0' = no hierarchy, subtree rules then act as folder
   rules).  A subtree rule's root is the highest of the folder and its
   ancestors that the pattern matches.  At most one rule per governed
   root: when several patterns claim the same root, a literal pattern
   beats a wildcard, then more literal bytes beat fewer, then the earlier
   rule (lower index) wins.  Matches are ordered deepest root first.
   Fills at most max entries and returns the number of matches there are
   (0: no folder quota applies).  Never allocates; any thread.  Cost:
   one wildcard match per rule whose literal prefix fits, plus, for a
   wildcard subtree rule, one per ancestor of the folder. */
size_t mp_policy_folder_match(const struct mp_policy *policy, const char *user,
			      const char *folder, char separator,
			      struct mp_folder_match *matches, size_t max);

/* Applies one per-user override to a rule: key "storage", "messages" or
   "scope" with the file's syntax; origin becomes MP_ORIGIN_OVERRIDE.
   Returns 0, or -1 with a static *error_r; *rule is unchanged then. */
int mp_folder_rule_set(struct mp_folder_rule *rule, const char *key,
		       const char *value, const char **error_r);

/* ---- listener ---- */

enum mp_requirement {
	MP_REQUIRE,
	MP_OPTIONAL,
	MP_FORBID,		/* auth only */
};
enum mp_sender_check {
	MP_SENDER_ANY,		/* built-in */
	MP_SENDER_LOGIN,	/* MAIL FROM must equal the login */
	MP_SENDER_LOGIN_DOMAIN,	/* MAIL FROM's domain must be the login's */
	MP_SENDER_MAP,		/* allowed senders per login from sender_map */
};
enum mp_listener_key {
	MP_LISTENER_PORTS,
	MP_LISTENER_AUTH,
	MP_LISTENER_TLS,
	MP_LISTENER_MIN_TLS,
	MP_LISTENER_AUTH_MECHANISMS,
	MP_LISTENER_SENDER,
	MP_LISTENER_SENDER_MAP,
	MP_LISTENER_ALLOWED_CLIENTS,
	MP_LISTENER_MAX_RECIPIENTS,
	MP_LISTENER_MAX_MESSAGE_SIZE,
	MP_LISTENER_RATE_LOGIN,
	MP_LISTENER_RATE_CLIENT_IP,
	MP_LISTENER_RATE_SENDER,
	MP_LISTENER_KEY_COUNT
};
struct mp_listener {
	const char *label;
	const uint16_t *ports;
	size_t port_count;
	enum mp_requirement auth;	/* built-in: optional */
	enum mp_requirement tls;	/* built-in: optional */
	enum mp_tls_version min_tls;	/* built-in: any; also applies to
					   TLS sessions when tls = optional */
	const char *const *auth_mechanisms;	/* upper case; none = any */
	size_t auth_mechanism_count;
	enum mp_sender_check sender;
	const char *sender_map;		/* path, when sender == map */
	const struct mp_cidr *allowed_clients;	/* none = everyone */
	size_t allowed_client_count;
	uint64_t max_recipients;	/* 0 = no limit */
	uint64_t max_message_size;	/* bytes; 0 = no limit */
	struct mp_rate_spec rate_login;	/* count 0 = no limit */
	struct mp_rate_spec rate_client_ip;
	struct mp_rate_spec rate_sender;
	unsigned int line;		/* of the block */
	struct mp_origin origin[MP_LISTENER_KEY_COUNT];
};

/* The listener for a session: the one labelled daemon_name if there is
   one (daemon_name may be NULL), else the one whose ports include port
   (0 = unknown), else NULL. */
const struct mp_listener *
mp_policy_listener_find(const struct mp_policy *policy,
			const char *daemon_name, uint16_t port);
size_t mp_policy_listener_count(const struct mp_policy *policy);
/* In file order; NULL when idx >= count. */
const struct mp_listener *
mp_policy_listener_at(const struct mp_policy *policy, size_t idx);

/* ---- milter ---- */

enum mp_verdict {
	MP_VERDICT_ACCEPT,
	MP_VERDICT_REJECT,
	MP_VERDICT_TEMPFAIL,
};
enum mp_milter_mode {
	MP_MODE_ENFORCE,	/* built-in */
	MP_MODE_REPORT,		/* log + header, never reject */
};
enum mp_rate_store_kind {
	MP_RATE_STORE_MEMORY,	/* built-in */
	MP_RATE_STORE_REDIS,
};
enum mp_milter_key {
	MP_MILTER_SOCKET,
	MP_MILTER_UNKNOWN_LISTENER,
	MP_MILTER_MODE,
	MP_MILTER_AUDIT_HEADER,
	MP_MILTER_HMAC_KEY_FILE,
	MP_MILTER_RATE_STORE,
	MP_MILTER_RATE_STORE_FAILURE,
	MP_MILTER_KEY_COUNT
};
struct mp_milter_settings {
	const char *socket;		/* built-in "inet:8893@127.0.0.1" */
	enum mp_verdict unknown_listener;	/* built-in tempfail */
	enum mp_milter_mode mode;
	const char *audit_header;	/* built-in "X-Mailpolicy"; "" = none */
	const char *hmac_key_file;	/* NULL = no HMAC */
	enum mp_rate_store_kind rate_store;
	const char *rate_store_url;	/* as written: "memory" or
					   redis://HOST[:PORT][/DB] */
	const char *redis_host;		/* for redis://; IPv6 without [] */
	uint16_t redis_port;		/* default 6379 */
	unsigned int redis_db;		/* default 0 */
	enum mp_verdict rate_store_failure;	/* accept (built-in) or tempfail */
	struct mp_origin origin[MP_MILTER_KEY_COUNT];
};

/* The milter settings; built-in defaults when the file has no `milter`
   block.  Never NULL. */
const struct mp_milter_settings *
mp_policy_milter(const struct mp_policy *policy);

/* ---- names ----
   The words of the policy language for each key and enum value: the
   parser and every printer use these same tables.  Each returns a static
   string ("?" for an out-of-range value). */
const char *mp_retention_key_name(enum mp_retention_key key);
const char *mp_folder_key_name(enum mp_folder_key key);
const char *mp_listener_key_name(enum mp_listener_key key);
const char *mp_milter_key_name(enum mp_milter_key key);
const char *mp_dele_action_name(enum mp_dele_action action);
const char *mp_retrieve_action_name(enum mp_retrieve_action action);
const char *mp_folder_scope_name(enum mp_folder_scope scope);
const char *mp_requirement_name(enum mp_requirement requirement);
const char *mp_sender_check_name(enum mp_sender_check check);
const char *mp_verdict_name(enum mp_verdict verdict);
const char *mp_milter_mode_name(enum mp_milter_mode mode);

#endif

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
 * The objects and who may use them from which thread:
 *   struct mp_policy         immutable once loaded: any thread, any
 *                            number at once;
 *   struct mp_policy_holder  a process's current policy for one path:
 *                            every function may be called from any
 *                            thread at once (get/reload/current);
 *   struct mp_user_policy    one user's effective policy (file blocks +
 *                            the host's userdb overrides): set up by one
 *                            thread, then read-only (any thread may read
 *                            it once the setters are done).
 *
 * Folder names (see mailpolicy.conf(5)): a host passes a mailbox name as
 * the user's client sees it in the personal namespace, WITHOUT the
 * namespace prefix, with the namespace's own hierarchy separator; a `/`
 * in a pattern stands for that separator, so one file serves Maildir++
 * ('.') and '/' hosts alike.  INBOX is one name whatever its case.
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
 * `#` at the start of a word starts a comment outside "strings", whose
 * only escapes are \" and \\; `{` ends its line and `}` stands alone;
 * `sender_map = FILE`, `rate_map = FILE` and `file:PATH` list words
 * name files that load with the policy, whole or not at all; blocks nest two deep
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
   (or one of only comments) is valid and configures nothing.  A
   relative path is made absolute (against the current directory) once,
   here, so staleness checks still work after the process changes
   directory; messages keep the path as given.  Relative paths of the
   files the policy includes start at the policy file's directory.  An
   error in an included file names that file's FILE:LINE:COL (then
   error_r's line and column are that file's) and ends in
   "(named at PATH:LINE)".  Any thread. */
int mp_policy_load_file(const struct mp_env *env, const char *path,
			struct mp_policy **policy_r, struct mp_error *error_r);

/* The same for data[0..size) in memory; name stands for the file name in
   errors.  data need not be NUL-terminated and may contain NUL bytes
   (which are errors).  Relative paths of included files start at the
   current directory. */
int mp_policy_load_string(const struct mp_env *env, const char *name,
			  const char *data, size_t size,
			  struct mp_policy **policy_r, struct mp_error *error_r);

/* Adds a reference; returns policy. */
struct mp_policy *mp_policy_ref(struct mp_policy *policy);
/* Drops a reference (freeing on the last) and sets *policy to NULL. */
void mp_policy_unref(struct mp_policy **policy);

/* The path or name it was loaded from. */
const char *mp_policy_name(const struct mp_policy *policy);

/* True when the policy file, or any file it includes (sender_map,
   rate_map and list files), now names a different file (device, inode), changed its
   size, mtime, ctime, mode or owner since the load, or its stat() result
   changed (it appeared, or cannot be stat()ed any more).  A policy loaded from a string
   has only its included files to check.  One stat() per file; any
   thread. */
bool mp_policy_is_stale(const struct mp_policy *policy);

/* ---- holder: a process's current policy for one path ----

   Dovecot keeps one per process, the milter one for its life.  get()
   hands out the current policy with a reference, re-loading first when
   the file (or a file it includes) changed since the last attempt.  A
   load is attempted once per file state: when it fails, the holder
   remembers the state and the error, and later calls say
   MP_HOLDER_FAILED_KNOWN without reading or parsing again until some
   file involved changes, so a broken file is logged once, not once per
   session.  A relative path is made absolute when the holder is made.

   Every function may be called from any thread at once: a reader gets
   its reference under the holder's lock, so another thread swapping in
   a new policy can never free the one being handed out (tested under
   TSan).  Loads are serialized: a get() that finds the file changed
   while another thread is loading waits for that load. */

struct mp_policy_holder;

enum mp_holder_mode {
	/* A failed load keeps the last good policy (the milter: mail keeps
	   flowing under the rules that were valid). */
	MP_HOLDER_KEEP_LAST_GOOD,
	/* A failed or unreadable file means no policy at all, never a
	   stale one (Dovecot: the plugins go inert). */
	MP_HOLDER_NONE_ON_ERROR,
};

enum mp_holder_status {
	MP_HOLDER_CURRENT,	/* no file changed: the policy held so far */
	MP_HOLDER_LOADED,	/* a new file state loaded and is now held */
	MP_HOLDER_FAILED,	/* a new file state failed: log *error_r */
	MP_HOLDER_FAILED_KNOWN,	/* the state that failed before, unchanged:
				   *error_r repeats that error, already
				   logged */
};

/* Makes a holder for path (made absolute against the current directory
   now); loads nothing yet.  env must outlive the holder.  Returns 0, or
   -1 with *error_r ("out of memory", or the current directory cannot be
   found for a relative path). */
int mp_policy_holder_new(const struct mp_env *env, const char *path,
			 enum mp_holder_mode mode,
			 struct mp_policy_holder **holder_r,
			 struct mp_error *error_r);
/* Frees the holder and drops its reference (policies it handed out stay
   valid until their callers drop theirs); sets *holder to NULL; NULL is a
   no-op.  No other thread may use the holder any more. */
void mp_policy_holder_free(struct mp_policy_holder **holder);
/* The absolute path the holder loads. */
const char *mp_policy_holder_path(const struct mp_policy_holder *holder);

/* The current policy, re-loading first if the file or a file it
   includes changed since the last attempt (one stat() per file when
   nothing changed).  *policy_r gets a reference the caller drops with
   mp_policy_unref(), or NULL when there is no policy: MP_HOLDER_FAILED*
   in MP_HOLDER_NONE_ON_ERROR mode, or no load ever succeeded.  With
   MP_HOLDER_KEEP_LAST_GOOD a failure still hands out the last good
   policy.  error_r may be NULL; it is filled for the FAILED statuses. */
enum mp_holder_status
mp_policy_holder_get(struct mp_policy_holder *holder,
		     struct mp_policy **policy_r, struct mp_error *error_r);

/* The policy held now, referenced, without looking at the files (NULL
   when there is none): for hot paths that reload on a signal instead. */
struct mp_policy *mp_policy_holder_current(struct mp_policy_holder *holder);

/* Loads the file whatever its state (the milter's SIGUSR1): validated in
   full, then swapped in.  Returns 0, or -1 with *error_r; on failure
   MP_HOLDER_KEEP_LAST_GOOD keeps the policy held, MP_HOLDER_NONE_ON_ERROR
   drops it, and the failed state is remembered as for get(), which then
   says MP_HOLDER_FAILED_KNOWN. */
int mp_policy_holder_reload(struct mp_policy_holder *holder,
			    struct mp_error *error_r);

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
/* What a save into a full folder does. */
enum mp_when_full {
	MP_WHEN_FULL_REFUSE,		/* built-in: NO [OVERQUOTA] */
	MP_WHEN_FULL_EXPUNGE_OLDEST,	/* expunge the folder's oldest mail
					   until the new message fits */
};
enum mp_folder_key {
	MP_FOLDER_STORAGE,
	MP_FOLDER_MESSAGES,
	MP_FOLDER_SCOPE,
	MP_FOLDER_WHEN_FULL,
	MP_FOLDER_KEY_COUNT
};
struct mp_folder_rule {
	/* As written, with '/' for the hierarchy separator, e.g. "Trash" or
	   "Projects/%"; a leading INBOX word in any case reads "INBOX"
	   ("inbox/Sent" -> "INBOX/Sent"), since it is one name. */
	const char *pattern;
	uint64_t storage;	/* bytes; 0 = no limit */
	uint64_t messages;	/* 0 = no limit */
	enum mp_folder_scope scope;
	enum mp_when_full when_full;
	struct mp_origin origin[MP_FOLDER_KEY_COUNT];
};

/* The merged folder rules of user from the file alone (rules merge by
   pattern across default, domain and user blocks, key by key; patterns
   compare byte for byte as written, but for a leading INBOX, which is
   one name in any case).  Order: the default block's patterns in file
   order, then patterns the domain block adds, then those the user block
   adds.  Indexes 0..count-1 are stable for a policy and user.  Hosts
   that apply userdb overrides use mp_user_policy_*() instead. */
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

/* The rules that govern folder for user (file rules only; see
   mp_user_policy_folder_match() for overrides).  folder is the name as
   the client sees it in the personal namespace, without the namespace
   prefix, with separator as its hierarchy separator ('\0' = no
   hierarchy: subtree rules then act as folder rules); a '/' in a
   pattern stands for separator.  A subtree rule's root is the highest
   of the folder and its ancestors that the pattern matches.  At most
   one rule per governed root: when several patterns claim the same
   root, a literal pattern beats a wildcard, then more literal bytes
   beat fewer, then the earlier rule (lower index) wins.  Matches are
   ordered deepest root first; each root is folder[0..root_len), a
   prefix of the name.  Fills at most max entries and returns the
   number of matches there are (0: no folder quota applies).  Never
   allocates; any thread.  Cost: one linear-time wildcard pass per rule
   whose literal prefix fits (a subtree rule finds its root in the same
   single pass over the name). */
size_t mp_policy_folder_match(const struct mp_policy *policy, const char *user,
			      const char *folder, char separator,
			      struct mp_folder_match *matches, size_t max);

/* Applies one key to a rule: "storage", "messages", "scope" or
   "when_full" with the file's syntax; origin becomes MP_ORIGIN_OVERRIDE.
   Returns 0, or -1 with a static *error_r; *rule is unchanged then.
   This changes a copy only: an overridden scope does not change what
   the policy matches.  Hosts use mp_user_policy_set_field(), which
   does. */
int mp_folder_rule_set(struct mp_folder_rule *rule, const char *key,
		       const char *value, const char **error_r);

/* ---- user policy: the file's blocks for one user + host overrides ----

   The effective policy of one user: what the file's default, domain
   and user blocks give the user, plus the per-user overrides the host
   reads from its userdb (DESIGN.md "Interfaces").  Overrides take part
   in matching: an overridden `scope` changes the root a rule governs,
   and a folder_quota_rule for a pattern the file lacks adds a rule
   (compiled here, after the file's rules, so their indexes stay).

   Set up by one thread (new, then set_field for each userdb field),
   then read-only: any thread may read a set-up user policy at once.
   It holds a reference on its policy; strings it returns live as long
   as it does. */

struct mp_user_policy;

/* The user policy of user (NULL: a user no selector names) under
   policy, which gets a reference of its own.  env: NULL =
   mp_env_default(); must outlive the object.  Returns 0, or -1 when out
   of memory. */
int mp_user_policy_new(const struct mp_env *env, struct mp_policy *policy,
		       const char *user, struct mp_user_policy **user_policy_r);
/* Frees it, dropping its policy reference; sets *user_policy to NULL;
   NULL is a no-op. */
void mp_user_policy_free(struct mp_user_policy **user_policy);
/* The policy and the user name it was made with. */
struct mp_policy *
mp_user_policy_policy(const struct mp_user_policy *user_policy);
const char *mp_user_policy_user(const struct mp_user_policy *user_policy);

/* Feeds one userdb field, by its full name, value as the userdb gives
   it (surrounding blanks are trimmed).  Ours:
     pop3_retention_keep_after_retrieval, pop3_retention_on_dele,
     pop3_retention_on_retrieve, pop3_retention_max_retained_size
       (the file's syntax for that key: "7d", "defer 7d", "move Old Mail");
     folder_quota_rule, folder_quota_rule2, folder_quota_rule3, ...
       PATTERN:KEY=VALUE[:KEY=VALUE]... with KEY storage, messages,
       scope or when_full ("Archive:storage=10G:messages=0"): sets those
       keys of that pattern's rule, or adds a rule when the user has
       none for the pattern.  The pattern ends at the first ':' that is
       followed by a KEY=.
   Returns 1 when applied (origin MP_ORIGIN_OVERRIDE); 0 when the field
   is not ours, or ours with an empty value (an unset SQL column), and
   changes nothing; -1 when refused: *error_r says why (valid until the
   next call on this object), and the file's value stands (a rule field
   applies all of its keys or none).  Later fields win over earlier ones
   key by key. */
int mp_user_policy_set_field(struct mp_user_policy *user_policy,
			     const char *field, const char *value,
			     const char **error_r);

/* The user's effective retention, as mp_policy_retention() with the
   overrides applied; true when a pop3_retention block or an override
   applies to the user. */
bool mp_user_policy_retention(const struct mp_user_policy *user_policy,
			      struct mp_retention *retention_r);
/* The user's folder rules with the overrides: the file's rules (same
   order and indexes as mp_policy_folder_rule()), then rules the
   overrides added. */
size_t mp_user_policy_folder_rule_count(const struct mp_user_policy *user_policy);
bool mp_user_policy_folder_rule(const struct mp_user_policy *user_policy,
				size_t idx, struct mp_folder_rule *rule_r);
/* As mp_policy_folder_match(), over the rules with the overrides. */
size_t mp_user_policy_folder_match(const struct mp_user_policy *user_policy,
				   const char *folder, char separator,
				   struct mp_folder_match *matches, size_t max);

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
/* What the From header's addresses must be (header_from). */
enum mp_header_from {
	MP_HEADER_FROM_ANY,		/* built-in: not checked */
	MP_HEADER_FROM_MATCH_SENDER,	/* each must pass the listener's
					   sender check for the login, as
					   MAIL FROM does */
};
/* What a message over a rate limit gets (over_limit). */
enum mp_over_limit {
	MP_OVER_LIMIT_TEMPFAIL,	/* built-in: 4xx, the client retries later */
	MP_OVER_LIMIT_REJECT,	/* 5xx: the client bounces it */
	MP_OVER_LIMIT_HOLD,	/* accepted into Postfix's hold queue
				   (smfi_quarantine) with the reason, for
				   an operator to release or delete */
};

/* The rate keys of a listener (and of rate_map entries), in the order
   of enum mp_listener_key: MP_LISTENER_RATE_LOGIN + k is the listener
   key of limit key k. */
enum mp_limit_key {
	MP_LIMIT_LOGIN,			/* rate_login: messages per login */
	MP_LIMIT_CLIENT_IP,		/* rate_client_ip: per client
					   address (IPv6: per network, see
					   rate_client_ipv6_prefix) */
	MP_LIMIT_SENDER,		/* rate_sender: per envelope sender */
	MP_LIMIT_DOMAIN,		/* rate_domain: per login domain,
					   shared by all its logins */
	MP_LIMIT_LOGIN_RECIPIENTS,	/* the same four, counting a
					   message's accepted recipients */
	MP_LIMIT_CLIENT_IP_RECIPIENTS,
	MP_LIMIT_SENDER_RECIPIENTS,
	MP_LIMIT_DOMAIN_RECIPIENTS,
	MP_LIMIT_KEY_COUNT
};
/* Whose counter a limit key counts against. */
enum mp_limit_subject {
	MP_LIMIT_SUBJECT_LOGIN,		/* the session's login */
	MP_LIMIT_SUBJECT_CLIENT_IP,	/* the client's address or network */
	MP_LIMIT_SUBJECT_SENDER,	/* the envelope sender */
	MP_LIMIT_SUBJECT_DOMAIN,	/* mp_login_domain() of the login,
					   lower-cased */
};
/* Most windows a key takes ("100/1h 1000/1d" is two). */
#define MP_LIMIT_MAX_WINDOWS 4
/* Most windows one message is checked against: every key with every
   window; equal to the rate store's MP_RATE_MAX_ITEMS, so one
   mp_rate_check_items() call holds them all. */
#define MP_LIMIT_MAX_ITEMS (MP_LIMIT_KEY_COUNT * MP_LIMIT_MAX_WINDOWS)

/* One rate key's windows: all must hold.  Each window length appears
   once, in the order written; a shorter window always has a smaller
   count than a longer one (anything else could never trip, and is an
   error).  window_count 0: no limit (unset, or `unlimited`). */
struct mp_limit {
	size_t window_count;
	struct mp_rate_spec windows[MP_LIMIT_MAX_WINDOWS];
};

enum mp_listener_key {
	MP_LISTENER_PORTS,
	MP_LISTENER_AUTH,
	MP_LISTENER_TLS,
	MP_LISTENER_MIN_TLS,
	MP_LISTENER_AUTH_MECHANISMS,
	MP_LISTENER_SENDER,
	MP_LISTENER_SENDER_MAP,
	MP_LISTENER_HEADER_FROM,
	MP_LISTENER_ALLOWED_CLIENTS,
	MP_LISTENER_MAX_RECIPIENTS,
	MP_LISTENER_MAX_MESSAGE_SIZE,
	MP_LISTENER_RATE_LOGIN,		/* + enum mp_limit_key ... */
	MP_LISTENER_RATE_CLIENT_IP,
	MP_LISTENER_RATE_SENDER,
	MP_LISTENER_RATE_DOMAIN,
	MP_LISTENER_RATE_LOGIN_RECIPIENTS,
	MP_LISTENER_RATE_CLIENT_IP_RECIPIENTS,
	MP_LISTENER_RATE_SENDER_RECIPIENTS,
	MP_LISTENER_RATE_DOMAIN_RECIPIENTS,	/* ... up to here */
	MP_LISTENER_RATE_CLIENT_IPV6_PREFIX,
	MP_LISTENER_RATE_MAP,
	MP_LISTENER_OVER_LIMIT,
	MP_LISTENER_ADD_AUDIT_HEADER,
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
	/* path, when sender == map; the map itself is loaded with the
	   policy: see mp_listener_sender_allowed() */
	const char *sender_map;
	enum mp_header_from header_from;	/* built-in: any */
	/* none = everyone; in file order, the words of list files (`file:`)
	   in place of their reference */
	const struct mp_cidr *allowed_clients;
	size_t allowed_client_count;
	uint64_t max_recipients;	/* 0 = no limit */
	uint64_t max_message_size;	/* bytes; 0 = no limit */
	/* The listener block's own rate keys, by enum mp_limit_key (built-in:
	   no limit).  A rate_map may change them per login and domain: the
	   milter asks mp_listener_limits(), which applies it. */
	struct mp_limit limits[MP_LIMIT_KEY_COUNT];
	/* rate_client_ip* count an IPv6 client by its /N network, so that
	   a client cannot rotate addresses within its network (see
	   mp_addr_truncate()); 1-128, built-in 64.  IPv4: the address. */
	unsigned int rate_client_ipv6_prefix;
	/* path of the rate_map (NULL = none); the map itself is loaded
	   with the policy: see mp_listener_limits() */
	const char *rate_map;
	enum mp_over_limit over_limit;	/* built-in: tempfail */
	/* add_audit_header: whether the milter's audit_header goes on this
	   listener's mail (built-in: yes); no keeps logins and verdicts out
	   of mail that leaves for other sites. */
	bool add_audit_header;
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

/* Whether listener (one of policy's) lets a session authenticated as
   login send with the envelope sender `sender` (MAIL FROM without the
   <>), by the listener's `sender` key:
     any           always;
     login         sender is the login, or a plus-addressed form of it
                   (local+tag@domain for local@domain);
     login_domain  the sender's domain is the login's domain;
     map           the login's sender_map entries list the sender (or
                   it is a plus-addressed form of a listed address), or
                   its @domain.
   Local parts compare exactly, domains case-insensitively (ASCII); a
   login looks up its sender_map entry the same way.  The null sender
   (sender "") and a session without a login (login NULL or "") pass
   only `any`.  When false, *reason_r (reason_r may be NULL) is a static
   string saying why, for the SMTP reply and the log.  With
   header_from = match_sender the milter asks the same of each address
   of the From header.  Never allocates; any thread. */
bool mp_listener_sender_allowed(const struct mp_policy *policy,
				const struct mp_listener *listener,
				const char *login, const char *sender,
				const char **reason_r);

/* ---- rate limits: what counts against what, with the rate_map ----

   A listener's rate keys (rate_login, ..., rate_domain_recipients) set
   limits for everyone; its rate_map file sets them for one login or for
   every login of a @domain.  Per key, the most specific wins: the
   login's entry > the @domain entry > the listener block > built-in (no
   limit).  An entry's key replaces all of that key's windows (an entry
   `rate_login=5000/1d` under a listener's `rate_login = 100/1h 1000/1d`
   leaves 5000/1d alone; `rate_login=unlimited` lifts the limit).  The
   domain keys come only from @domain entries and the listener, so every
   login of a domain shares one counter under one limit.

   How the milter counts (issue 12): each window of each key is one
   counter, keyed by the listener, the key, the subject's value and the
   window; a message costs 1 on the message keys and its accepted
   recipients on the *_recipients keys; all counters of a message are
   checked and counted in one mp_rate_check_items() call (at most
   MP_LIMIT_MAX_ITEMS items), so a refused or held message counts
   nowhere.  A key whose subject is missing counts nothing: login keys
   without a login, domain keys for a login without a domain, client
   keys without a client address. */

/* Where an effective limit came from. */
enum mp_limit_source {
	MP_LIMIT_FROM_BUILTIN,		/* set nowhere: no limit */
	MP_LIMIT_FROM_LISTENER,		/* the listener block's key */
	MP_LIMIT_FROM_DOMAIN_ENTRY,	/* the rate_map's @domain entry */
	MP_LIMIT_FROM_LOGIN_ENTRY,	/* the rate_map's entry of the login */
};
struct mp_limit_origin {
	enum mp_limit_source source;
	/* The policy's name (mp_policy_name()) for LISTENER, the rate_map's
	   path for entries; NULL for BUILTIN. */
	const char *file;
	/* Line of the listener's key or of the map's entry; 0 for BUILTIN. */
	unsigned int line;
	/* The entry as the map names it, its domain lower-cased
	   ("alice@example.com", "@example.com"); NULL but for entries. */
	const char *entry;
};
/* The effective limits of one login on one listener. */
struct mp_limits {
	const struct mp_limit *limit[MP_LIMIT_KEY_COUNT];	/* never NULL */
	struct mp_limit_origin origin[MP_LIMIT_KEY_COUNT];
};

/* Fills *limits_r with the limits listener (one of policy's) applies to
   a session authenticated as login (NULL or "" = no login: the
   listener's own keys, no map entry).  A login finds its rate_map entry
   as a sender_map entry is found (local part exactly, domain
   case-insensitively), and the @domain entry of mp_login_domain(login).
   Returns the number of windows over all keys (0: nothing to count for
   this login; at most MP_LIMIT_MAX_ITEMS).  The pointers live as long as
   the policy.  Never allocates; any thread. */
size_t mp_listener_limits(const struct mp_policy *policy,
			  const struct mp_listener *listener,
			  const char *login, struct mp_limits *limits_r);

/* Whether listener has any rate limit for anyone: a window in one of its
   keys, or a rate_map entry with one.  False means no session on it
   ever needs the rate store. */
bool mp_listener_has_limits(const struct mp_policy *policy,
			    const struct mp_listener *listener);

/* The domain part of login: after its last '@', or NULL when it has no
   '@' or nothing after it.  Domain keys count it lower-cased. */
const char *mp_login_domain(const char *login);

/* The key's subject, and whether it counts recipients (cost = the
   message's accepted recipients) rather than messages (cost 1). */
enum mp_limit_subject mp_limit_key_subject(enum mp_limit_key key);
bool mp_limit_key_counts_recipients(enum mp_limit_key key);

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
	MP_MILTER_REDIS_PASSWORD_FILE,
	MP_MILTER_ALERT_COMMAND,
	MP_MILTER_KEY_COUNT
};
struct mp_milter_settings {
	const char *socket;		/* built-in "inet:8893@127.0.0.1" */
	enum mp_verdict unknown_listener;	/* built-in tempfail */
	enum mp_milter_mode mode;
	const char *audit_header;	/* built-in "X-Mailpolicy"; "" = none */
	const char *hmac_key_file;	/* NULL = no HMAC */
	enum mp_rate_store_kind rate_store;
	/* As written ("memory", redis://[:PASSWORD@]HOST[:PORT][/DB] or
	   unix://[:PASSWORD@]/PATH[?db=DB]) but with a password shown as
	   "****": safe to log and to print. */
	const char *rate_store_url;
	/* Where the Redis store is: a TCP host (a name, an IPv4 address or
	   an IPv6 address without []) and port, or, for unix://, the
	   socket's path (then redis_host is NULL).  Hosts are checked by
	   the core's one host validator. */
	const char *redis_host;		/* NULL for memory and unix:// */
	uint16_t redis_port;		/* default 6379 */
	const char *redis_socket;	/* NULL but for unix:// */
	unsigned int redis_db;		/* default 0 */
	/* Redis AUTH: the password from the URL, %-escapes decoded (NULL =
	   none; never log it), or the file to read it from
	   (redis_password_file; NULL = none).  Never both. */
	const char *redis_password;
	const char *redis_password_file;
	enum mp_verdict rate_store_failure;	/* accept (built-in) or tempfail */
	/* alert_command: run (no shell) when a rate key trips, at most once
	   per key per window.  argv of alert_command_count words, then
	   NULL: [0] is an absolute path; the milter appends six arguments:
	   the listener's label, the key's name (rate_login, ...), the
	   counted value (login, client address or network, envelope
	   sender, domain), the window's limit as COUNT/DURATION, the count
	   in the window, and the login ("" when none).  NULL = none. */
	const char *const *alert_command;
	size_t alert_command_count;
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
const char *mp_when_full_name(enum mp_when_full when_full);
const char *mp_requirement_name(enum mp_requirement requirement);
const char *mp_sender_check_name(enum mp_sender_check check);
const char *mp_verdict_name(enum mp_verdict verdict);
const char *mp_milter_mode_name(enum mp_milter_mode mode);
const char *mp_header_from_name(enum mp_header_from header_from);
const char *mp_over_limit_name(enum mp_over_limit over_limit);
/* "rate_login", ..., "rate_domain_recipients": the listener key. */
const char *mp_limit_key_name(enum mp_limit_key key);
/* "yes" or "no", the words of yes/no keys (add_audit_header). */
const char *mp_bool_name(bool value);
/* "built-in", "listener", "domain entry", "login entry". */
const char *mp_limit_source_name(enum mp_limit_source source);

#endif

#ifndef MAILPOLICY_CORE_POLICY_PRIVATE_H
#define MAILPOLICY_CORE_POLICY_PRIVATE_H

/* policy-private.h: what the files of the policy language share.
 *
 * The pipeline, one file per role:
 *   policy-lexer.c    bytes -> lines -> tokens (quoting, comments, the
 *                     byte-level checks: NUL, control chars, UTF-8,
 *                     line length)
 *   policy-parser.c   tokens -> block structure (`NAME ... {`, `}`,
 *                     `key = value`), nesting, unclosed blocks
 *   policy-build.c    the meaning of sections, selectors and the
 *                     pop3_retention / folder_quota keys, as each line
 *                     is parsed (so the first error in file order wins)
 *   policy-build-listener.c, policy-build-milter.c
 *                     the same for listener and milter blocks
 *   policy-limits.c   the windows of a rate key, shared by listener
 *                     blocks and rate maps
 *   policy-ratemap.c  rate_map files and a login's effective limits
 *   policy-sender.c   sender_map files and the sender check
 *   policy-listfile.c files of words: list files and maps
 *   policy-error.c    "FILE:LINE:COL: reason", and the word checks the
 *                     builders share
 *   policy-values.c   value parsers shared by the file and by host
 *                     overrides (mp_retention_set, mp_folder_rule_set)
 *   policy-compile.c  after the last line: merge inheritance into
 *                     per-domain and per-user results, port index
 *   policy-lookup.c   the read-only, allocation-free lookups
 *   policy-names.c    the words of the language
 *   policy-hash.c     seeded SipHash-1-3 and an open-addressing table
 *   policy-arena.c    the policy's memory: chunks from the mp_env
 *   policy-files.c    reading a file whole, and the identity of every
 *                     file a policy was read from (staleness)
 *   policy.c          load_file/load_string, refcount, staleness
 *   policy-holder.c   a process's current policy for one path
 *   policy-user.c     one user's policy: file blocks + host overrides
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "siphash.h"

#include "mailpolicy/policy.h"
#include "mailpolicy/wildcard.h"

/* Compile-time limits (see mailpolicy.conf(5)). */
#define MP_POLICY_MAX_DEPTH 2		/* folder_quota { folder X { } } */
#define MP_POLICY_MAX_FOLDER_RULES 256	/* per user, inherited included */
#define MP_POLICY_MAX_SIZE_VALUE ((uint64_t)INT64_MAX)	/* hosts use off_t */

/* ---- errors ---- */

struct policy_errctx {
	const char *name;		/* file name for messages */
	struct mp_error *error;
	/* Where the lexer saw a comment start on the line it returned
	   last (0 = none): a "missing ..." error on that line says that
	   '#' began a comment, the likely cause (`folder #Public {`). */
	unsigned int comment_line, comment_col;
};

/* " ('#' at column N starts a comment: ...)" when a comment started
   on line, else "". */
const char *policy_comment_hint(const struct policy_errctx *ctx,
				unsigned int line, char buf[128]);

/* "NAME:LINE:COL: reason"; returns -1. */
int policy_error(struct policy_errctx *ctx, unsigned int line,
		 unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "NAME: reason" (not about a place); returns -1. */
int policy_error_file(struct policy_errctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends " (named at NAME:LINE)" to the error: where the policy file
   names an included file whose own error it is. */
void policy_error_note(struct policy_errctx *ctx, const char *name,
		       unsigned int line);
/* "NAME: out of memory"; returns -1. */
int policy_error_oom(struct policy_errctx *ctx);

/* Copies at most 64 bytes of s[0..len) to buf for quoting in a message,
   never cutting a UTF-8 sequence, with "..." when shortened. */
const char *policy_quote(const char *s, size_t len, char buf[80]);
/* The same for a NUL-terminated s, without the quotes. */
const char *policy_clip(const char *s, char buf[80]);

/* ---- memory ---- */

struct policy_arena_chunk;
struct policy_arena {
	const struct mp_env *env;
	struct policy_arena_chunk *head;
	size_t next_size;
};

void policy_arena_init(struct policy_arena *arena, const struct mp_env *env);
/* Zero-filled, 16-byte aligned; NULL when the env allocator fails. */
void *policy_arena_alloc(struct policy_arena *arena, size_t size);
/* NUL-terminated copy of s[0..len); NULL on failure. */
char *policy_arena_strndup(struct policy_arena *arena, const char *s,
			   size_t len);
void policy_arena_free(struct policy_arena *arena);

/* ---- files ---- */

/* What a file looked like when it was read (or why it could not be):
   staleness compares this with a fresh stat(). */
struct policy_file_state {
	const char *path;	/* absolute */
	int error;		/* errno of stat(), 0 when it exists */
	dev_t dev;
	ino_t ino;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
	struct timespec mtime, ctime;
};

/* The files one load read: the policy file and every file it includes.
   The array is the env's (a failed load hands it to the holder). */
struct policy_files {
	const struct mp_env *env;
	struct policy_file_state *items;
	size_t count, cap;
	char *paths;		/* NUL-separated copies of the paths */
	size_t paths_used, paths_cap;
};

void policy_files_init(struct policy_files *files, const struct mp_env *env);
void policy_files_free(struct policy_files *files);
/* True when any file now differs from its record (see
   mp_policy_is_stale()). */
bool policy_files_changed(const struct policy_file_state *items,
			  size_t count);
/* Moves *from into *to (to must be empty or freed). */
void policy_files_move(struct policy_files *to, struct policy_files *from);

/* path made absolute against the current directory (a copy from env),
   or NULL with errno (ENOMEM, or getcwd()'s). */
char *policy_absolute_path_dup(const struct mp_env *env, const char *path);

/* Reads the regular file at path whole (at most max_size bytes) into a
   buffer from env, and records it in files (also when it cannot be
   opened or read, so that a fixed file is seen as a change).  Returns
   0, or -1 with "NAME: reason" reported through ctx, name being how
   messages call the file. */
int policy_read_file(const struct mp_env *env, struct policy_errctx *ctx,
		     const char *path, size_t max_size,
		     struct policy_files *files, char **data_r,
		     size_t *size_r);

/* ---- hashing ---- */

/* Hashes of selectors, logins and labels: mp_siphash13_fold() under the
   policy's own random key (siphash.h). */

struct policy_slot {
	uint64_t hash;
	void *item;		/* NULL = empty */
};
/* Open addressing, linear probing, at most half full.  Items are the
   caller's; the table never compares keys itself: lookups walk the
   items whose full 64-bit hash matches. */
struct policy_htable {
	struct policy_slot *slots;
	size_t mask;		/* capacity - 1; capacity 0 = empty table */
	size_t count;
};

/* Adds item under hash (duplicates are the caller's business); grows
   from the arena.  Returns 0, or -1 when out of memory. */
int policy_htable_add(struct policy_htable *table,
		      struct policy_arena *arena, uint64_t hash, void *item);
/* Iterates the items stored with exactly hash: start with *pos = 0;
   returns NULL at the end. */
void *policy_htable_next(const struct policy_htable *table, uint64_t hash,
			 size_t *pos);

/* ---- tokens ---- */

enum policy_token_type {
	POLICY_TOKEN_WORD,
	POLICY_TOKEN_STRING,	/* "quoted", decoded */
	POLICY_TOKEN_EQUALS,
	POLICY_TOKEN_LBRACE,
	POLICY_TOKEN_RBRACE,
};

struct policy_token {
	enum policy_token_type type;
	/* The file the token is from, for messages: NULL for the policy
	   file, the path of a list file (`file:PATH`) otherwise. */
	const char *file;
	unsigned int named_line;	/* where the policy names that file */
	unsigned int line, col;	/* 1-based; col in bytes */
	unsigned int raw_len;	/* bytes in the file, quotes included */
	size_t len;		/* of str */
	const char *str;	/* NUL-terminated; valid until the next line */
};

struct policy_lexer;

/* A lexer over data[0..size), reporting errors through ctx.  NULL when
   out of memory (ctx then says so). */
struct policy_lexer *policy_lexer_new(const struct mp_env *env,
				      struct policy_errctx *ctx,
				      const char *data, size_t size);
void policy_lexer_free(const struct mp_env *env, struct policy_lexer **lexer);
/* Tokenizes the next line: returns 1 with *tokens_r and *count_r (count may
   be 0 for blank or comment lines), 0 at the end of the data, -1 on an
   error (reported). */
int policy_lexer_next(struct policy_lexer *lexer,
		      const struct policy_token **tokens_r, size_t *count_r);

/* The path of a file the policy includes, word[0..len), made absolute:
   as is when it starts with '/', else against policy->dir (or the
   current directory for a string).  An arena copy, or NULL with the
   error reported at word. */
const char *policy_include_path(struct mp_policy *policy,
				struct policy_errctx *ctx,
				const struct policy_token *key,
				const struct policy_token *word,
				const char *path, size_t len);

/* ---- word files: list files and sender maps (policy-listfile.c) ---- */

/* A file of words: blanks separate them, a '#' at the start of a word
   starts a comment to the end of the line, one word per line or many.
   Lines end in LF (a CR before it is dropped), hold at most
   MP_POLICY_MAX_LINE bytes, no NUL or other control byte, valid UTF-8. */
struct policy_wordfile {
	char *buf;			/* the file, words NUL-terminated in it */
	struct policy_token *words;	/* file = the path */
	size_t count;
};

#define POLICY_LIST_FILE_PREFIX "file:"

/* Reads path (absolute; recorded in files) into wf.  Returns 0, or -1
   with "PATH:LINE:COL: reason" or "PATH: reason" reported through ctx
   (whose name stays the policy file's). */
int policy_wordfile_read(const struct mp_env *env, struct policy_errctx *ctx,
			 const char *path, struct policy_files *files,
			 struct policy_wordfile *wf);
void policy_wordfile_free(const struct mp_env *env, struct policy_wordfile *wf);

/* The words of a list value with every `file:PATH` word replaced by the
   words of that file, in order; *words_r is values itself when there is
   no file word, else an array from env (free with env->free) whose
   words point into *files_r (free with policy_wordfile_free on each,
   then env->free).  Returns 0, or -1 (reported). */
struct policy_list {
	const struct policy_token *words;
	size_t count;
	struct policy_token *owned;	/* words when expanded */
	struct policy_wordfile *files;
	size_t file_count;
};
int policy_list_expand(struct mp_policy *policy, struct policy_errctx *ctx,
		       const struct policy_token *key,
		       const struct policy_token *values, size_t count,
		       struct policy_list *list);
void policy_list_free(const struct mp_env *env, struct policy_list *list);

/* ---- names ---- */

enum policy_section {
	POLICY_SECTION_POP3_RETENTION,
	POLICY_SECTION_FOLDER_QUOTA,
	POLICY_SECTION_LISTENER,
	POLICY_SECTION_MILTER,
	POLICY_SECTION_FOLDER,		/* inside folder_quota */
	POLICY_SECTION_COUNT
};
const char *policy_section_name(enum policy_section section);

/* A set of accepted words for one key, indexed by the enum value. */
struct policy_choice {
	const char *(*name)(unsigned int value);	/* an mp_*_name() */
	unsigned int count;		/* enum values 0..count-1 */
	unsigned int allowed;		/* bit per accepted value */
	/* "unknown value (use a, b or c)": checked against name()/allowed
	   by test-policy-names so the two cannot drift apart. */
	const char *error;
};
extern const struct policy_choice policy_choice_dele;
extern const struct policy_choice policy_choice_retrieve;
extern const struct policy_choice policy_choice_scope;
extern const struct policy_choice policy_choice_when_full;
extern const struct policy_choice policy_choice_auth;
extern const struct policy_choice policy_choice_tls;
extern const struct policy_choice policy_choice_sender;
extern const struct policy_choice policy_choice_unknown_listener;
extern const struct policy_choice policy_choice_mode;
extern const struct policy_choice policy_choice_store_failure;
extern const struct policy_choice policy_choice_header_from;
extern const struct policy_choice policy_choice_over_limit;
extern const struct policy_choice policy_choice_bool;	/* yes = 0, no = 1 */

/* The index i < count with name(i) == s[0..len), or -1. */
int policy_name_lookup(const char *(*name)(unsigned int value),
		       unsigned int count, const char *s, size_t len);
/* The same for a choice, honouring allowed. */
int policy_choice_lookup(const struct policy_choice *choice, const char *s,
			 size_t len);

/* Adapters so the typed mp_*_name() fit policy_name_lookup(). */
const char *policy_retention_key_name(unsigned int key);
const char *policy_folder_key_name(unsigned int key);
const char *policy_listener_key_name(unsigned int key);
const char *policy_milter_key_name(unsigned int key);
const char *policy_section_name_u(unsigned int section);

/* ---- values (shared by the file and by host overrides) ----
   Each parser reads words[0..count) for one key.  On error it returns
   -1, *error_r is a static string and *bad_r the index of the word at
   fault (count when a word is missing). */

int policy_parse_retention(struct mp_retention *retention,
			   enum mp_retention_key key,
			   const struct policy_token *words, size_t count,
			   const char **error_r, size_t *bad_r);
int policy_parse_folder(struct mp_folder_rule *rule, enum mp_folder_key key,
			const struct policy_token *words, size_t count,
			const char **error_r, size_t *bad_r);
/* Exactly one word; error "missing value" / "unexpected extra value". */
int policy_one_word(size_t count, const char **error_r, size_t *bad_r);
/* A size that hosts can hold in an off_t. */
int policy_parse_size(const char *str, uint64_t *bytes_r,
		      const char **error_r);
/* Choice word -> enum value. */
int policy_parse_choice(const struct policy_choice *choice,
			const struct policy_token *word, unsigned int *value_r,
			const char **error_r);

/* Selector names.  A domain: dot-separated labels of ASCII letters,
   digits, '-' or '_', 1-63 bytes each, 253 in all, no leading or
   trailing '-' in a label.  Non-ASCII is refused with
   POLICY_DOMAIN_NOT_ASCII (the A-label is what hosts compare; see
   policy_domain_error() for the suggestion). */
extern const char policy_domain_not_ascii[];
#define POLICY_DOMAIN_NOT_ASCII policy_domain_not_ascii
int policy_check_domain(const char *s, size_t len, const char **error_r);
/* The message for a domain[0..len) that failed policy_check_domain()
   with error: error itself, or for a non-ASCII one the A-label to write
   when it can be told for sure. */
const char *policy_domain_error(const char *domain, size_t len,
				const char *error, char *buf, size_t size);
/* A user: "LOCAL@DOMAIN" (split at the last '@', LOCAL non-empty,
   DOMAIN as above) or a plain login without '@'; no spaces.
   *in_domain_r tells whether the error is about the domain part. */
int policy_check_user(const char *s, size_t len, const char **error_r,
		      bool *in_domain_r);

/* ---- the compiled policy ---- */

/* One compiled pattern, shared by every rule written with it (so rules
   with the same pattern have the same node: merging compares
   pointers).  Patterns are canonical: a leading INBOX word in any case
   is stored as "INBOX", so `inbox` and `INBOX` are one pattern. */
struct policy_pattern {
	struct mp_wildcard *wildcard;
	const char *str;	/* as written, INBOX canonical */
	size_t len;
	size_t literal_bytes;	/* bytes that are not * or %: the shortest
				   name the pattern can match */
	size_t prefix_len;	/* bytes before the first * or % */
	bool literal;		/* no * or % */
	bool inbox;		/* starts with "INBOX" in any case */
	uint64_t hash;
	struct policy_pattern *next;	/* all of them, to free */
};

/* A `folder PATTERN { }` block as written (build only): the keys it
   sets, and where. */
struct policy_folder_set {
	const struct policy_pattern *pattern;
	uint64_t storage, messages;	/* the keys of set_mask */
	enum mp_folder_scope scope;
	enum mp_when_full when_full;
	unsigned int set_mask;
	unsigned int key_line[MP_FOLDER_KEY_COUNT];
	unsigned int line, col;	/* of the pattern */
	struct policy_folder_set *next;	/* in its block */
};

/* A merged rule, as lookups scan them. */
struct policy_folder_rule {
	struct mp_folder_rule rule;
	const struct policy_pattern *pattern;
};

/* Everything one selector (the default, a domain or a user) resolves
   to, merged at compile time so that a lookup is one hash hit. */
struct policy_scope {
	const char *name;	/* normalized: domain lower-cased */
	size_t name_len;
	uint64_t hash;
	enum mp_origin_scope kind;
	size_t at;		/* users: offset of the domain part, else len */

	/* build: the scope's own blocks (line 0 = none) */
	unsigned int retention_line, folder_line, folder_col;
	unsigned int retention_mask;	/* keys its block sets */
	struct policy_folder_set *rules, **rules_tail;
	size_t rule_count;

	/* The keys of retention_mask as its block sets them; compiling
	   fills in the others from the parent scope. */
	struct mp_retention retention;
	bool has_retention;
	/* The merged rules; a rule no block of this scope changes is the
	   parent's own object, so most of a big file's users share the
	   default's rules (and their cache lines). */
	const struct policy_folder_rule *const *merged;
	size_t merged_count;

	struct policy_scope *next;	/* in file order, per kind */
};

/* A listener as the policy keeps it: hosts get &pub. */
struct policy_sender_map;
struct policy_rate_map;
struct policy_listener {
	struct mp_listener pub;
	const struct policy_sender_map *sender_map;	/* sender = map */
	const struct policy_rate_map *rate_map;		/* rate_map set */
};

struct policy_port {
	uint16_t port;
	const struct mp_listener *listener;
};

struct mp_policy {
	int refcount;
	const struct mp_env *env;
	struct policy_arena arena;
	struct policy_pattern *pattern_list;	/* owned, to free */
	struct policy_htable patterns;
	const char *name;

	/* Every file the load read (the policy file first, when loaded
	   from a file), for staleness; env-allocated. */
	struct policy_files files;
	/* Where relative paths of included files start: the directory of
	   the policy file (absolute), or NULL for a string (then the
	   current directory at load time). */
	const char *dir;

	bool has_retention, has_folder_quota, has_listeners, has_milter;
	uint64_t hash_key[2];

	struct policy_scope default_scope;
	struct policy_htable domains, users;
	struct policy_scope *domain_list, **domain_tail;
	struct policy_scope *user_list, **user_tail;

	struct policy_sender_map *sender_maps;	/* loaded, by path */
	struct policy_rate_map *rate_maps;	/* loaded, by path */
	struct mp_listener **listeners;	/* file order */
	size_t listener_count, listener_cap;
	struct policy_htable labels;
	struct policy_port *ports;	/* sorted by port */
	size_t port_count;

	unsigned int milter_line;
	struct mp_milter_settings milter;
};

/* The listener labelled label[0..len), or NULL (one lookup shared by
   the builder's duplicate check and mp_policy_listener_find()). */
struct mp_listener *policy_listener_by_label(const struct mp_policy *policy,
					     const char *label, size_t len);
/* The policy's own record of listener, or NULL when listener is not one
   of policy's. */
const struct policy_listener *
policy_listener_of(const struct mp_policy *policy,
		   const struct mp_listener *listener);

/* policy-sender.c: the sender map at path (absolute), loaded once per
   policy (a second listener naming it shares it); line is where the
   policy names it.  Errors in the map are "PATH:LINE:COL: KEY "WORD":
   reason (named at NAME:LINE)".  Returns 0 or -1 (reported). */
int policy_sender_map_load(struct mp_policy *policy, struct policy_errctx *ctx,
			   const struct policy_token *key, const char *path,
			   unsigned int line,
			   const struct policy_sender_map **map_r);

/* ---- rate limits (policy-limits.c, policy-ratemap.c) ---- */

/* Reads words[0..count) as the windows of the rate key named key->str
   into *limit: each word COUNT/DURATION, or one word `unlimited`; at
   most MP_LIMIT_MAX_WINDOWS, each window length once, a shorter window
   with a smaller count than every longer one.  Returns 0, or -1 with the
   error reported at the word at fault (words from a map report in its
   file). */
int policy_parse_limit(struct policy_errctx *ctx,
		       const struct policy_token *key,
		       const struct policy_token *words, size_t count,
		       struct mp_limit *limit);

/* The rate map at path (absolute), loaded once per policy (listeners
   naming one file share it); line is where the policy names it.  Errors
   are "PATH:LINE:COL: reason (named at NAME:LINE)".  Returns 0 or -1
   (reported). */
int policy_rate_map_load(struct mp_policy *policy, struct policy_errctx *ctx,
			 const char *path, unsigned int line,
			 const struct policy_rate_map **map_r);
/* Whether any entry of map sets a window for key. */
bool policy_rate_map_limits(const struct policy_rate_map *map,
			    enum mp_limit_key key);

/* Built-in values. */
void policy_retention_builtin(struct mp_retention *retention);
void policy_folder_rule_builtin(struct mp_folder_rule *rule);
void policy_milter_builtin(struct mp_milter_settings *milter);

/* Scope lookups shared by build, compile and lookup. */
struct policy_scope *policy_find_domain(const struct mp_policy *policy,
					const char *domain, size_t len,
					uint64_t hash);
struct policy_scope *policy_find_user(const struct mp_policy *policy,
				      const char *user, size_t len,
				      size_t at, uint64_t hash);
/* The scope whose merged results apply to user (never NULL). */
const struct policy_scope *policy_resolve(const struct mp_policy *policy,
					  const char *user);

/* ---- folder patterns and matching (shared with policy-user.c) ---- */

/* Copies word[0..len) to buf (len + 1 bytes) with a leading INBOX word
   (any case, followed by the end or '/') spelled "INBOX". */
void policy_pattern_canonical(const char *word, size_t len, char *buf);
/* Fills the fields of pattern from its compiled wildcard (str, len,
   literal, prefix, inbox); hash is the caller's. */
void policy_pattern_init(struct policy_pattern *pattern,
			 struct mp_wildcard *wildcard);
/* mp_policy_folder_match() over rules[0..count). */
size_t policy_folder_match(const struct policy_folder_rule *const *rules,
			   size_t count, const char *folder, char separator,
			   struct mp_folder_match *matches, size_t max);
/* The pattern node of policy with canonical text str, or NULL. */
const struct policy_pattern *policy_pattern_find(const struct mp_policy *policy,
						 const char *str, size_t len);
/* Hash of a pattern's canonical text. */
uint64_t policy_pattern_hash(const struct mp_policy *policy, const char *str,
			     size_t len);

/* ---- build: fed by the parser, one event per line ---- */

struct policy_build;

struct policy_build *policy_build_new(struct mp_policy *policy,
				      struct policy_errctx *ctx);
void policy_build_free(struct policy_build **build);

/* A block header: name `{` at depth (0 = top level) with the words
   between.  Returns 0 or -1 (reported). */
int policy_build_open(struct policy_build *build, unsigned int depth,
		      const struct policy_token *name,
		      const struct policy_token *args, size_t count);
/* A short description of the open block at depth, for messages
   ("listener mx", "folder_quota domain example.org"). */
void policy_build_describe(const struct policy_build *build,
			   unsigned int depth, char *buf, size_t size);
/* key = values at depth. */
int policy_build_assign(struct policy_build *build, unsigned int depth,
			const struct policy_token *key,
			const struct policy_token *values, size_t count);
/* `}` closing the block at depth (its header was at depth). */
int policy_build_close(struct policy_build *build, unsigned int depth,
		       const struct policy_token *brace);
/* After the last line: merges and indexes.  Returns 0 or -1. */
int policy_build_finish(struct policy_build *build);

/* The keys set so far in the innermost block, for duplicate keys and
   for checks across keys when the block closes. */
#define POLICY_BUILD_MAX_KEYS 32
struct policy_build_keys {
	/* of each key set, 0 = unset */
	unsigned int line[POLICY_BUILD_MAX_KEYS], col[POLICY_BUILD_MAX_KEYS];
};

/* Word checks shared by the builders (policy-error.c).  Each reports
   "KEY "WORD": reason" at the word (or "unknown key", "duplicate key"
   at the key) and returns -1, or returns 0 / the key's index. */
const char *policy_shown(const struct policy_token *token, char buf[80]);
int policy_word_error(struct policy_errctx *ctx, const struct policy_token *key,
		      const struct policy_token *word, const char *error);
/* As above for the word values[bad], or after the last one when bad ==
   count. */
int policy_value_error(struct policy_errctx *ctx,
		       const struct policy_token *key,
		       const struct policy_token *values, size_t count,
		       size_t bad, const char *error);
/* key's index in names[0..count), recorded in keys; section names the
   block in "unknown key" messages. */
int policy_key_lookup(struct policy_errctx *ctx, struct policy_build_keys *keys,
		      const struct policy_token *key,
		      const char *(*names)(unsigned int), unsigned int count,
		      const char *section);
/* Exactly one value. */
int policy_one_value(struct policy_errctx *ctx, const struct policy_token *key,
		     const struct policy_token *values, size_t count);
/* One value, one of choice's words. */
int policy_choice_value(struct policy_errctx *ctx,
			const struct policy_token *key,
			const struct policy_token *values, size_t count,
			const struct policy_choice *choice,
			unsigned int *value_r);
/* A path starting with '/'. */
int policy_absolute_path(struct policy_errctx *ctx,
			 const struct policy_token *key,
			 const struct policy_token *word);

/* Listener and milter blocks (policy-build-listener.c,
   policy-build-milter.c), called by policy-build.c. */
int policy_build_listener_open(struct mp_policy *policy,
			       struct policy_errctx *ctx,
			       const struct policy_token *label,
			       struct mp_listener **listener_r);
int policy_build_listener_assign(struct mp_policy *policy,
				 struct policy_errctx *ctx,
				 struct mp_listener *listener,
				 struct policy_build_keys *keys,
				 uint8_t *port_bitmap,
				 const struct policy_token *key,
				 const struct policy_token *values,
				 size_t count);
int policy_build_listener_close(struct mp_policy *policy,
				struct policy_errctx *ctx,
				struct mp_listener *listener,
				const struct policy_build_keys *keys);
/* Checks across the milter block's keys when it closes. */
int policy_build_milter_close(struct policy_errctx *ctx,
			      const struct mp_policy *policy,
			      const struct policy_build_keys *keys);
int policy_build_milter_assign(struct mp_policy *policy,
			       struct policy_errctx *ctx,
			       struct policy_build_keys *keys,
			       const struct policy_token *key,
			       const struct policy_token *values,
			       size_t count);

/* policy-compile.c: merges into every scope, indexes the ports. */
int policy_compile(struct mp_policy *policy, struct policy_errctx *ctx);

/* policy.c: loads the file at path (absolute) into a policy named name
   in messages; files gets every file the load read, and keeps them on
   failure (the holder remembers a failed state by them). */
int policy_load_path(const struct mp_env *env, const char *path,
		     const char *name, struct policy_files *files,
		     struct mp_policy **policy_r, struct mp_error *error_r);

/* policy-parser.c: runs the whole file through build. */
int policy_parse(struct policy_lexer *lexer, struct policy_build *build,
		 struct policy_errctx *ctx);

#endif

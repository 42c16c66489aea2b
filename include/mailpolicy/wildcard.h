#ifndef MAILPOLICY_WILDCARD_H
#define MAILPOLICY_WILDCARD_H

/* mp_wildcard: IMAP LIST patterns (RFC 3501 6.3.8) over mailbox names.
 *
 * `*` matches any run of characters including the hierarchy separator,
 * `%` any run not containing it.  Everything else matches itself,
 * byte for byte, except that a leading "INBOX" (followed by the end or
 * the separator) matches case-insensitively, as IMAP requires: when the
 * pattern and the name both start with that word, in any case, those
 * five bytes match ("inbox" matches "INBOX", "Inbox/Sent" "INBOX/Sent";
 * "inboxes" does not match "INBOXES", nor "inbox*" "INBOX").
 * The separator is a parameter of matching, not of compiling, because
 * the policy is compiled before any namespace is known.  Patterns are
 * written with '/' as the hierarchy separator whatever the namespace
 * uses: with separator '.', "Projects/%" matches "Projects.apollo", a
 * '.' in the pattern matches nothing (a name's '.' is a separator
 * there) and a name's '/' is an ordinary byte only '*' and '%' consume.
 * With separator '/' or '\0' (no hierarchy) every byte is itself.
 *
 * Mailbox names are client-controlled: matching runs in
 * O(strlen(name) * (strlen(pattern) / 64 + 1)) time (a bit-parallel NFA)
 * with no recursion and no allocation; patterns are limited to
 * MP_WILDCARD_MAX_LEN bytes.  A compiled pattern is immutable: any
 * number of threads may match with it at once. */

#include <stdbool.h>
#include <stddef.h>

#include "mailpolicy/env.h"

#define MP_WILDCARD_MAX_LEN 1024

struct mp_wildcard;

/* Compiles pattern.  Returns 0; -1 (MP_WILDCARD_ERROR_INVALID) for an
   empty pattern, one longer than MP_WILDCARD_MAX_LEN, control characters
   or invalid UTF-8; -2 (MP_WILDCARD_ERROR_NOMEM) when the env allocator
   fails.  *error_r is a static string saying which. */
#define MP_WILDCARD_ERROR_INVALID (-1)
#define MP_WILDCARD_ERROR_NOMEM (-2)
int mp_wildcard_compile(const struct mp_env *env, const char *pattern,
			struct mp_wildcard **wildcard_r, const char **error_r);

/* Frees and sets *wildcard to NULL; NULL is a no-op. */
void mp_wildcard_free(const struct mp_env *env, struct mp_wildcard **wildcard);

/* True when name (NUL-terminated) matches. */
bool mp_wildcard_match(const struct mp_wildcard *wildcard, const char *name,
		       char separator);

/* Same for the first len bytes of name (name need not be
   NUL-terminated there). */
bool mp_wildcard_match_n(const struct mp_wildcard *wildcard, const char *name,
			 size_t len, char separator);

#define MP_WILDCARD_NO_MATCH ((size_t)-1)

/* The shortest of name[0..len) and its ancestors that matches: the
   smallest p (1 <= p <= len) with p == len or name[p] == separator such
   that name[0..p) matches, or MP_WILDCARD_NO_MATCH.  One pass over the
   name, so finding a subtree's root stays linear in the name's length
   however deep a client nests its folders. */
size_t mp_wildcard_match_ancestor(const struct mp_wildcard *wildcard,
				  const char *name, size_t len,
				  char separator);

/* Whether pattern[0..n) (no wildcards in that stretch) spells
   name[0..n) under the separator rule above: a cheap prefix test. */
bool mp_wildcard_literal_equal(const char *pattern, const char *name,
			       size_t n, char separator);

/* True when the pattern has no `*` or `%`. */
bool mp_wildcard_is_literal(const struct mp_wildcard *wildcard);

/* The pattern as written. */
const char *mp_wildcard_pattern(const struct mp_wildcard *wildcard);

#endif

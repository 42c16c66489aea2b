/* wildcard.c: IMAP LIST patterns ("*" and "%") over mailbox names.
 *
 * Mailbox names come from clients, so matching must not backtrack: a
 * pattern like "*a*a*a*a*b" against a long run of 'a's takes exponential
 * time in a recursive matcher.  Instead the pattern is an NFA with one
 * state per pattern position, and matching runs all states at once as a
 * bitset (bit i: pattern[0..i) matched the name so far), the shift-and
 * technique.  For each name byte c:
 *
 *   next = ((state & literal[c]) << 1)       literal pattern[i] == c
 *        | (state & star)                   '*' consumes c and stays
 *        | (state & percent) if c != sep    '%' too, but not the separator
 *
 * then the epsilon moves: a wildcard may also match nothing, so a state
 * on a run of wildcards reaches every later position of the run and the
 * one after it.  That closure is one addition per word: adding the
 * states that sit on wildcards to the wildcard mask carries each of them
 * to the end of its run (see wildcard_closure()).
 *
 * Cost: O(len(name) * (len(pattern) / 64 + 1)) word operations, no
 * recursion, no allocation (the state lives on the stack: patterns are
 * at most MP_WILDCARD_MAX_LEN bytes), and an early exit once no state is
 * left.  The separator is applied at match time, so one compiled pattern
 * serves namespaces with '/' and with '.'.
 *
 * Separators: patterns are written with '/' as the hierarchy separator
 * whatever the namespace's own separator is (one policy file serves
 * Maildir++ hosts with '.' and hosts with '/').  With another separator
 * S, a pattern's '/' matches exactly the name's S, a pattern's S (a
 * '.') matches no byte (in such a namespace a name's S is always a
 * separator), and a name's '/' is an ordinary byte that no pattern
 * byte matches (only '*' and '%' consume it).  With separator '/' or
 * '\0' (no hierarchy) every byte matches itself.
 *
 * INBOX: when the pattern starts with the word INBOX in any case
 * (followed by its end or the separator) and so does the name, those
 * five bytes match whatever their case; everything else is byte for
 * byte.  "inbox" matches "INBOX" and "Inbox/Sent" matches "INBOX/Sent",
 * but "inboxes" never matches "INBOXES", nor "inbox*" "INBOX". */

#include <stdint.h>
#include <string.h>

#include "mailpolicy/wildcard.h"
#include "ascii.h"
#include "utf8.h"

_Static_assert(MP_WILDCARD_MAX_LEN == 1024, "update the error message");

/* Words in a state bitset: one bit per pattern position, plus the end. */
#define WILDCARD_MAX_WORDS (MP_WILDCARD_MAX_LEN / 64 + 1)
#define INBOX_LEN 5

struct mp_wildcard {
	const char *pattern;	/* NUL-terminated, inside this block */
	size_t len;
	unsigned int words;	/* of each mask */
	bool literal;		/* no '*' or '%' */
	bool inbox;		/* pattern[0..5) is "INBOX" in any case */
	/* ... as a word: followed by the pattern's end or its '/' (the
	   separator of every namespace but the one without hierarchy) */
	bool inbox_word;
	/* Each byte's row in masks[]: ROW_ZERO (all zero) for bytes not
	   in the pattern, else its own literal row. */
	uint16_t row_of[256];
	/* Rows of `words` words, indexed as in the ROW_* enum: all zero,
	   star, percent, wildcard (star|percent), then one literal row per
	   distinct pattern byte. */
	uint64_t masks[];
};

enum {
	ROW_ZERO = 0,
	ROW_STAR = 1,
	ROW_PERCENT = 2,
	ROW_WILD = 3,
	ROW_FIRST_LITERAL = 4,
};

static const uint64_t *wildcard_row(const struct mp_wildcard *wc,
				    unsigned int row)
{
	return wc->masks + (size_t)row * wc->words;
}

static void bit_set(uint64_t *row, size_t bit)
{
	row[bit / 64] |= (uint64_t)1 << (bit % 64);
}

static int wildcard_check(const char *pattern, size_t len,
			  const char **error_r)
{
	size_t i;

	if (len == 0) {
		*error_r = "invalid folder pattern: empty";
		return -1;
	}
	if (len > MP_WILDCARD_MAX_LEN) {
		*error_r = "invalid folder pattern: longer than 1024 bytes";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (c < 0x20 || c == 0x7f) {
			*error_r = "invalid folder pattern: control character";
			return -1;
		}
	}
	if (mp_utf8_validate(pattern, len) < 0) {
		*error_r = "invalid folder pattern: invalid UTF-8";
		return -1;
	}
	return 0;
}

int mp_wildcard_compile(const struct mp_env *env, const char *pattern,
			struct mp_wildcard **wildcard_r, const char **error_r)
{
	uint16_t row_of[256];
	unsigned int rows = ROW_FIRST_LITERAL, words;
	struct mp_wildcard *wc;
	size_t len, i, mask_bytes;
	char *copy;

	env = mp_env_or_default(env);
	/* strnlen: a pattern far over the limit is not read to its end. */
	len = strnlen(pattern, MP_WILDCARD_MAX_LEN + 1);
	if (wildcard_check(pattern, len, error_r) < 0)
		return -1;

	memset(row_of, 0, sizeof(row_of));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (c != '*' && c != '%' && row_of[c] == ROW_ZERO)
			row_of[c] = (uint16_t)rows++;
	}
	words = (unsigned int)(len / 64 + 1);
	mask_bytes = (size_t)rows * words * sizeof(uint64_t);
	wc = env->alloc(env->ctx, sizeof(*wc) + mask_bytes + len + 1);
	if (wc == NULL) {
		*error_r = "out of memory";
		return MP_WILDCARD_ERROR_NOMEM;
	}
	/* alloc() zero-fills, so every row starts empty. */
	wc->len = len;
	wc->words = words;
	wc->literal = true;
	memcpy(wc->row_of, row_of, sizeof(row_of));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pattern[i];
		uint64_t *masks = wc->masks;

		if (c == '*' || c == '%') {
			bit_set(masks + (size_t)(c == '*' ? ROW_STAR :
						 ROW_PERCENT) * words, i);
			bit_set(masks + (size_t)ROW_WILD * words, i);
			wc->literal = false;
		} else {
			bit_set(masks + (size_t)row_of[c] * words, i);
		}
	}
	wc->inbox = len >= INBOX_LEN &&
		mp_ascii_memcaseeq(pattern, "INBOX", INBOX_LEN);
	wc->inbox_word = wc->inbox &&
		(len == INBOX_LEN || pattern[INBOX_LEN] == '/');
	copy = (char *)(wc->masks + (size_t)rows * words);
	memcpy(copy, pattern, len);
	copy[len] = '\0';
	wc->pattern = copy;
	*wildcard_r = wc;
	return 0;
}

void mp_wildcard_free(const struct mp_env *env, struct mp_wildcard **wildcard)
{
	if (*wildcard == NULL)
		return;
	env = mp_env_or_default(env);
	env->free(env->ctx, *wildcard);
	*wildcard = NULL;
}

/* Adds the epsilon moves to state: each state on a wildcard also reaches
   the following positions up to and including the first non-wildcard.
   For a run of wildcard bits at [a, b] and a state at k in it, adding
   bit k to the run clears k..b and carries into b + 1 (never a wildcard
   bit, so the carry stops there); XOR with the mask then leaves exactly
   k..b+1.  Several states in one run leave holes at the later ones,
   which OR-ing the old state fills.  The carry crosses word boundaries. */
static void wildcard_closure(const struct mp_wildcard *wc, uint64_t *state)
{
	const uint64_t *wild = wildcard_row(wc, ROW_WILD);
	uint64_t carry = 0, sum, partial;
	unsigned int w;

	for (w = 0; w < wc->words; w++) {
		partial = wild[w] + (state[w] & wild[w]);
		sum = partial + carry;
		carry = (partial < wild[w]) | (sum < partial);
		state[w] |= sum ^ wild[w];
	}
}

/* Whether '/' in a pattern stands for another byte of the name. */
static inline bool separator_mapped(unsigned char separator)
{
	return separator != '/' && separator != '\0';
}

/* The literal row for the name byte c (see "Separators" above). */
static inline unsigned int name_row(const struct mp_wildcard *wc,
				    unsigned char c, unsigned char separator,
				    bool mapped)
{
	if (mapped) {
		if (c == separator)
			return wc->row_of['/'];
		if (c == '/')
			return ROW_ZERO;
	}
	return wc->row_of[c];
}

/* Whether pattern[0..n) spells name[0..n), byte for byte under the
   separator rule (no wildcards in that stretch). */
static inline bool literal_equal(const char *pattern, const char *name,
				 size_t n, char separator)
{
	size_t i;

	if (!separator_mapped((unsigned char)separator))
		return memcmp(pattern, name, n) == 0;
	for (i = 0; i < n; i++) {
		if (pattern[i] == '/' ? name[i] != separator :
		    (name[i] != pattern[i] || name[i] == separator))
			return false;
	}
	return true;
}

bool mp_wildcard_literal_equal(const char *pattern, const char *name,
			       size_t n, char separator)
{
	return literal_equal(pattern, name, n, separator);
}

/* Whether the state holds the accepting position (the pattern's end). */
static bool wildcard_accepts(const struct mp_wildcard *wc,
			     const uint64_t *state)
{
	return (state[wc->len / 64] >> (wc->len % 64)) & 1;
}

/* Runs the NFA over name[start..len) from pattern position start and
   returns where it accepts: with at_separators, the first p (start < p
   <= len) where p == len or name[p] is the separator and the pattern
   accepts name[0..p); otherwise len when it accepts the whole name.
   MP_WILDCARD_NO_MATCH when it does not.  One pass over the name. */
static inline __attribute__((always_inline)) size_t
wildcard_run_as(const struct mp_wildcard *wc, const unsigned char *name,
		size_t len, unsigned char separator, size_t start,
		bool at_separators, const bool mapped)
{
	const uint64_t *star = wildcard_row(wc, ROW_STAR);
	const uint64_t *percent = wildcard_row(wc, ROW_PERCENT);
	uint64_t state[WILDCARD_MAX_WORDS], next, shifted_out, alive;
	unsigned int w, words = wc->words;
	size_t i;

	memset(state, 0, words * sizeof(state[0]));
	bit_set(state, start);
	wildcard_closure(wc, state);
	for (i = start; i < len; i++) {
		const uint64_t *literal =
			wildcard_row(wc, name_row(wc, name[i], separator,
						  mapped));
		bool is_separator = name[i] == separator;

		if (is_separator && at_separators && i > 0 &&
		    wildcard_accepts(wc, state))
			return i;
		shifted_out = 0;
		alive = 0;
		for (w = 0; w < words; w++) {
			uint64_t hit = state[w] & literal[w];

			next = (hit << 1) | shifted_out | (state[w] & star[w]);
			if (!is_separator)
				next |= state[w] & percent[w];
			shifted_out = hit >> 63;
			state[w] = next;
			alive |= next;
		}
		if (alive == 0)
			return MP_WILDCARD_NO_MATCH;
		wildcard_closure(wc, state);
	}
	return wildcard_accepts(wc, state) ? len : MP_WILDCARD_NO_MATCH;
}

/* The loop above, compiled once for each separator rule, so that the
   common '/' namespace pays nothing for the mapping. */
static size_t wildcard_run(const struct mp_wildcard *wc,
			   const unsigned char *name, size_t len,
			   unsigned char separator, size_t start,
			   bool at_separators)
{
	if (separator_mapped(separator))
		return wildcard_run_as(wc, name, len, separator, start,
				       at_separators, true);
	return wildcard_run_as(wc, name, len, separator, start,
			       at_separators, false);
}

/* True when s[0..len) starts with the word INBOX: any case, followed by
   its end or the separator. */
static bool starts_with_inbox_word(const char *s, size_t len, char separator)
{
	return len >= INBOX_LEN && mp_ascii_memcaseeq(s, "INBOX", INBOX_LEN) &&
		(len == INBOX_LEN || s[INBOX_LEN] == separator);
}

/* Where matching starts: past a leading INBOX word when both the
   pattern and the name have one (its five bytes match in any case).
   The pattern's word ends at its own '/', the name's at the separator. */
static inline size_t wildcard_start(const struct mp_wildcard *wc,
				    const char *name, size_t len,
				    char separator)
{
	/* the pattern's word ends at its '/', or with no hierarchy only at
	   its end */
	if (!wc->inbox_word ||
	    (separator == '\0' && wc->len != INBOX_LEN))
		return 0;
	return starts_with_inbox_word(name, len, separator) ? INBOX_LEN : 0;
}

bool mp_wildcard_match_n(const struct mp_wildcard *wildcard, const char *name,
			 size_t len, char separator)
{
	size_t start = wildcard_start(wildcard, name, len, separator);

	if (wildcard->literal) {
		return len == wildcard->len &&
			literal_equal(wildcard->pattern + start, name + start,
				      len - start, separator);
	}
	return wildcard_run(wildcard, (const unsigned char *)name, len,
			    (unsigned char)separator, start, false) == len;
}

size_t mp_wildcard_match_ancestor(const struct mp_wildcard *wildcard,
				  const char *name, size_t len, char separator)
{
	size_t start = wildcard_start(wildcard, name, len, separator);
	size_t p;

	if (len == 0)
		return MP_WILDCARD_NO_MATCH;	/* an empty name is no root */
	if (wildcard->literal) {
		p = wildcard->len;
		return p > 0 && p <= len &&
			(p == len || name[p] == separator) &&
			mp_wildcard_match_n(wildcard, name, p, separator) ?
			p : MP_WILDCARD_NO_MATCH;
	}
	if (start > 0 && memchr(name, separator, start) != NULL) {
		/* A separator that is a letter of INBOX: the INBOX rule
		   differs between the prefixes, so try each (no namespace
		   has such a separator; this only keeps the answer right). */
		for (p = 1; p <= len; p++) {
			if ((p == len || name[p] == separator) &&
			    mp_wildcard_match_n(wildcard, name, p, separator))
				return p;
		}
		return MP_WILDCARD_NO_MATCH;
	}
	return wildcard_run(wildcard, (const unsigned char *)name, len,
			    (unsigned char)separator, start, true);
}

bool mp_wildcard_match(const struct mp_wildcard *wildcard, const char *name,
		       char separator)
{
	return mp_wildcard_match_n(wildcard, name, strlen(name), separator);
}

bool mp_wildcard_is_literal(const struct mp_wildcard *wildcard)
{
	return wildcard->literal;
}

const char *mp_wildcard_pattern(const struct mp_wildcard *wildcard)
{
	return wildcard->pattern;
}

/* address.c: the addresses of an RFC 5322 address list (see address.h).
 *
 * A recursive-descent reader over the tokens of RFC 5322 section 3.2:
 * atoms, quoted strings, the specials, and CFWS (blanks, folding, nested
 * comments) between any two of them.  One pass, no allocation, linear in
 * the value (a header of 100 KB is no worse than its length); nesting is
 * bounded: comments by a counter, groups one deep as the RFC says. */

#include <stdbool.h>
#include <string.h>

#include "address.h"

enum token {
	T_END,
	T_ATOM,		/* a run of atext */
	T_QSTRING,	/* "..." */
	T_DOT,
	T_AT,
	T_LT,
	T_GT,
	T_COMMA,
	T_SEMI,
	T_COLON,
	T_LBRACKET,
	T_BAD,		/* not a token of an address list */
};

struct parser {
	const unsigned char *p;
	const char *error;
	address_fn *fn;
	void *ctx;
	int count;
};

/* A local part or domain being read, or a display name being skipped
   (which may pass ADDRESS_MAX without harm: only an address must fit). */
struct text {
	char s[ADDRESS_MAX];
	size_t len;
	bool overflow;
};

static bool fail(struct parser *ps, const char *error)
{
	if (ps->error == NULL)
		ps->error = error;
	return false;
}

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A control character that no address may hold (blanks are not). */
static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static void text_put(struct text *t, const void *s, size_t n)
{
	if (t->overflow || n >= sizeof(t->s) - t->len) {
		t->overflow = true;
		return;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void text_clear(struct text *t)
{
	t->len = 0;
	t->overflow = false;
	t->s[0] = '\0';
}

/* Skips blanks, line folding and comments (nested, with \ escapes). */
static bool skip_cfws(struct parser *ps)
{
	for (;;) {
		unsigned int depth;

		while (is_wsp(*ps->p))
			ps->p++;
		if (*ps->p != '(')
			return true;
		depth = 0;
		do {
			unsigned char c = *ps->p;

			/* never step past the end, whatever follows */
			if (c == '\0')
				return fail(ps, "a comment is not closed");
			ps->p++;
			if (c == '\\') {
				if (*ps->p == '\0')
					return fail(ps, "a comment is not "
						    "closed");
				ps->p++;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				depth--;
			}
		} while (depth > 0);
	}
}

/* The next token, after any CFWS, without consuming it. */
static enum token peek(struct parser *ps)
{
	unsigned char c;

	/* an error is final: no token after it */
	if (ps->error != NULL || !skip_cfws(ps))
		return T_BAD;
	c = *ps->p;
	switch (c) {
	case '\0': return T_END;
	case '"': return T_QSTRING;
	case '.': return T_DOT;
	case '@': return T_AT;
	case '<': return T_LT;
	case '>': return T_GT;
	case ',': return T_COMMA;
	case ';': return T_SEMI;
	case ':': return T_COLON;
	case '[': return T_LBRACKET;
	default:
		break;
	}
	if (is_atext(c))
		return T_ATOM;
	fail(ps, c < 0x20 || c == 0x7f ? "a control character" :
	     "a character that has no place in an address list");
	return T_BAD;
}

/* Reads the atom or quoted string at ps->p into t (a quoted string
   unquoted, its folding dropped). */
static bool read_word(struct parser *ps, struct text *t)
{
	const unsigned char *start;

	if (*ps->p != '"') {
		for (start = ps->p; is_atext(*ps->p); ps->p++)
			;
		text_put(t, start, (size_t)(ps->p - start));
		return true;
	}
	ps->p++;
	for (;;) {
		unsigned char c = *ps->p;

		if (c == '\0')
			return fail(ps, "a quoted string is not closed");
		ps->p++;
		if (c == '"')
			return true;
		if (c == '\\') {
			c = *ps->p;
			if (c == '\0')
				return fail(ps, "a quoted string is not "
					    "closed");
			ps->p++;
			if (c == '\r' || c == '\n' || is_ctl(c))
				return fail(ps, "a control character");
		} else if (c == '\r' || c == '\n') {
			continue;
		} else if (is_ctl(c)) {
			return fail(ps, "a control character");
		}
		text_put(t, &c, 1);
	}
}

/* Words and dots up to the next other token: a local part, or a display
   name (or group name).  *local_r: whether they can be a local part
   (words joined by dots; two words side by side are a phrase). */
static bool read_words(struct parser *ps, struct text *t,
		       unsigned int *words_r, bool *local_r)
{
	bool after_word = false;

	*words_r = 0;
	*local_r = true;
	for (;;) {
		enum token tok = peek(ps);

		if (tok == T_ATOM || tok == T_QSTRING) {
			if (after_word)
				*local_r = false;
			if (!read_word(ps, t))
				return false;
			(*words_r)++;
			after_word = true;
		} else if (tok == T_DOT) {
			ps->p++;
			text_put(t, ".", 1);
			after_word = false;
		} else {
			if (tok == T_BAD)
				return false;
			if (*words_r == 0 || !after_word)
				*local_r = false;
			return true;
		}
	}
}

/* A domain after '@': a dot-atom or a [domain literal]. */
static bool read_domain(struct parser *ps, struct text *t)
{
	enum token tok = peek(ps);

	if (tok == T_LBRACKET) {
		ps->p++;
		text_put(t, "[", 1);
		for (;;) {
			unsigned char c = *ps->p;

			if (c == '\0' || c == '[')
				return fail(ps, "a domain literal is not "
					    "closed");
			ps->p++;
			if (c == ']')
				break;
			if (c == '\\') {
				c = *ps->p;
				if (c == '\0')
					return fail(ps, "a domain literal is "
						    "not closed");
				ps->p++;
				if (is_wsp(c) || is_ctl(c))
					return fail(ps, "a control character "
						    "or blank in a domain "
						    "literal");
			} else if (is_wsp(c)) {
				continue;
			} else if (is_ctl(c)) {
				return fail(ps, "a control character");
			}
			text_put(t, &c, 1);
		}
		text_put(t, "]", 1);
		return true;
	}
	for (;;) {
		const unsigned char *start;

		if (tok != T_ATOM)
			return tok == T_BAD ? false :
				fail(ps, "an address has no domain after @");
		for (start = ps->p; is_atext(*ps->p); ps->p++)
			;
		text_put(t, start, (size_t)(ps->p - start));
		if (peek(ps) != T_DOT)
			return ps->error == NULL;
		ps->p++;
		text_put(t, ".", 1);
		tok = peek(ps);
	}
}

/* At '@' after local part local: the domain, then the address is
   passed on. */
static bool finish_address(struct parser *ps, struct text *local)
{
	struct text domain;

	ps->p++;
	text_clear(&domain);
	if (!read_domain(ps, &domain))
		return false;
	if (local->len == 0)
		return fail(ps, "an address has an empty local part");
	text_put(local, "@", 1);
	text_put(local, domain.s, domain.len);
	if (local->overflow || domain.overflow)
		return fail(ps, "an address is too long");
	ps->count++;
	ps->fn(ps->ctx, local->s);
	return true;
}

/* At '<': an angle address, with an obsolete source route skipped. */
static bool read_angle(struct parser *ps, struct text *t)
{
	unsigned int words;
	bool local;

	ps->p++;
	if (peek(ps) == T_AT) {
		/* <@a.example,@b.example:alice@example.com> */
		for (;;) {
			enum token tok;

			ps->p++;
			text_clear(t);
			if (!read_domain(ps, t))
				return false;
			tok = peek(ps);
			while (tok == T_COMMA) {
				ps->p++;
				tok = peek(ps);
			}
			if (tok == T_COLON) {
				ps->p++;
				break;
			}
			if (tok != T_AT)
				return tok == T_BAD ? false :
					fail(ps, "a source route does not end "
					     "with :");
		}
	}
	text_clear(t);
	if (!read_words(ps, t, &words, &local))
		return false;
	if (peek(ps) != T_AT || !local)
		return ps->error == NULL ?
			fail(ps, words == 0 ? "an empty address in <>" :
			     "the text in <> is not an address") : false;
	if (!finish_address(ps, t))
		return false;
	if (peek(ps) != T_GT)
		return ps->error == NULL ? fail(ps, "<address> is not "
						"closed with >") : false;
	ps->p++;
	return true;
}

/* A mailbox, or with in_group false also a group. */
static bool read_address(struct parser *ps, bool in_group)
{
	struct text t;
	unsigned int words;
	bool local;
	enum token tok;

	text_clear(&t);
	if (!read_words(ps, &t, &words, &local))
		return false;
	tok = peek(ps);
	if (tok == T_AT) {
		if (!local)
			return fail(ps, words == 0 ? "an address has no local "
				    "part" : "blanks inside a local part");
		return finish_address(ps, &t);
	}
	if (tok == T_LT)
		return read_angle(ps, &t);
	if (tok == T_COLON && !in_group && words > 0) {
		/* a group: name: mailbox, mailbox, ... ; */
		ps->p++;
		for (;;) {
			tok = peek(ps);
			if (tok == T_SEMI) {
				ps->p++;
				return true;
			}
			if (tok == T_COMMA) {
				ps->p++;
				continue;
			}
			if (tok == T_END)
				return fail(ps, "a group is not closed with ;");
			if (tok == T_BAD || !read_address(ps, true))
				return false;
			tok = peek(ps);
			if (tok != T_COMMA && tok != T_SEMI)
				return tok == T_BAD ? false :
					fail(ps, "addresses without a comma "
					     "between them");
		}
	}
	if (tok == T_BAD)
		return false;
	if (tok == T_COLON)
		return fail(ps, in_group ? "a group inside a group" :
			    "a group without a name");
	return fail(ps, words > 0 ? "a name without an address" :
		    "a character that has no place in an address list");
}

int address_list_parse(const char *value, address_fn *fn, void *ctx,
		       const char **error_r)
{
	struct parser ps = {
		.p = (const unsigned char *)value, .fn = fn, .ctx = ctx,
	};

	for (;;) {
		enum token tok = peek(&ps);

		if (tok == T_END)
			return ps.count;
		if (tok == T_COMMA) {
			ps.p++;
			continue;
		}
		if (tok == T_BAD || !read_address(&ps, false))
			break;
		tok = peek(&ps);
		if (tok == T_END)
			return ps.count;
		if (tok != T_COMMA) {
			if (tok != T_BAD)
				fail(&ps, "addresses without a comma between "
				     "them");
			break;
		}
	}
	*error_r = ps.error != NULL ? ps.error : "not an address list";
	return -1;
}

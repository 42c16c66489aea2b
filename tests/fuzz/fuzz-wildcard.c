/* fuzz-wildcard.c: libFuzzer target for core/wildcard.c.
 *
 * Input: one byte choosing the separator, the pattern up to the first
 * newline, the name after it.  Every pattern that compiles is matched,
 * and for names short enough to afford it the answer is checked against
 * the obvious dynamic-programming matcher: the bit-parallel NFA and the
 * definition (with its separator rule: a pattern's '/' is the name's
 * separator) must agree. */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailpolicy/wildcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool word_inbox(const char *s, size_t len, char sep)
{
	static const char inbox[] = "inbox";
	size_t i;

	if (len < 5 || (len > 5 && s[5] != sep))
		return false;
	for (i = 0; i < 5; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];

		if (c != inbox[i])
			return false;
	}
	return true;
}

/* The separator rule of wildcard.h: a pattern's '/' is the separator,
   unless the separator is '/' or none. */
static bool mapped(char sep)
{
	return sep != '/' && sep != '\0';
}

static bool byte_matches(char p, char c, char sep)
{
	if (!mapped(sep))
		return p == c;
	if (p == '/')
		return c == sep;
	return c == p && c != sep;
}

static bool reference_match(const char *p, size_t plen, const char *n,
			    size_t nlen, char sep)
{
	bool *dp, result;
	size_t i, j, cols;

	if (word_inbox(p, plen, mapped(sep) ? '/' : sep) &&
	    word_inbox(n, nlen, sep)) {
		p += 5;
		plen -= 5;
		n += 5;
		nlen -= 5;
	}
	cols = nlen + 1;
	dp = calloc((plen + 1) * cols, 1);
	if (dp == NULL)
		abort();
	dp[0] = true;
	for (i = 1; i <= plen; i++) {
		for (j = 0; j <= nlen; j++) {
			bool up = dp[(i - 1) * cols + j];
			bool left = j > 0 && dp[i * cols + j - 1];

			if (p[i - 1] == '*')
				dp[i * cols + j] = up || left;
			else if (p[i - 1] == '%')
				dp[i * cols + j] = up ||
					(left && n[j - 1] != sep);
			else
				dp[i * cols + j] = j > 0 &&
					byte_matches(p[i - 1], n[j - 1], sep) &&
					dp[(i - 1) * cols + j - 1];
		}
	}
	result = dp[plen * cols + nlen];
	free(dp);
	return result;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char separators[] = { '/', '.', '\0', 'a' };
	const uint8_t *newline;
	struct mp_wildcard *wc;
	const char *error, *name;
	char *pattern, sep;
	size_t plen, nlen;
	bool match;

	if (size < 1)
		return 0;
	sep = separators[data[0] % sizeof(separators)];
	data++;
	size--;
	newline = memchr(data, '\n', size);
	plen = newline != NULL ? (size_t)(newline - data) : size;
	nlen = newline != NULL ? size - plen - 1 : 0;

	/* C strings: a NUL would cut the pattern short of plen. */
	if (memchr(data, '\0', plen) != NULL)
		return 0;
	name = newline != NULL ? (const char *)newline + 1 : "";
	pattern = malloc(plen + 1);
	if (pattern == NULL)
		abort();
	memcpy(pattern, data, plen);
	pattern[plen] = '\0';
	if (mp_wildcard_compile(NULL, pattern, &wc, &error) == 0) {
		match = mp_wildcard_match_n(wc, name, nlen, sep);
		if (nlen <= 512 &&
		    match != reference_match(pattern, plen, name, nlen, sep))
			abort();
		/* The one-pass ancestor search agrees with trying each
		   boundary (short names: the trial is quadratic). */
		if (nlen <= 256) {
			size_t p, expect = MP_WILDCARD_NO_MATCH;

			for (p = 1; p <= nlen; p++) {
				if ((p == nlen || name[p] == sep) &&
				    mp_wildcard_match_n(wc, name, p, sep)) {
					expect = p;
					break;
				}
			}
			if (mp_wildcard_match_ancestor(wc, name, nlen, sep) !=
			    expect)
				abort();
		}
		mp_wildcard_free(NULL, &wc);
	}
	free(pattern);
	return 0;
}

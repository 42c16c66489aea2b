/* test-wildcard.c: IMAP LIST patterns (core/wildcard.c).
 *
 * A table of pattern/name/separator cases written from RFC 3501 and the
 * INBOX rule; a differential test against a plain dynamic-programming
 * matcher over random patterns long enough to cross the bitset's word
 * boundaries; and adversarial names that would make a backtracking
 * matcher take exponential time (they must simply finish). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "mailpolicy/wildcard.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static struct mp_wildcard *compile_ok(const char *pattern)
{
	struct mp_wildcard *wc = NULL;
	const char *error = NULL;

	if (mp_wildcard_compile(NULL, pattern, &wc, &error) < 0)
		fail_msg("pattern \"%s\": %s", pattern, error);
	return wc;
}

struct compile_case {
	const char *pattern;
	const char *error;	/* NULL: compiles */
};

static const struct compile_case compile_cases[] = {
	{ "INBOX", NULL },
	{ "*", NULL },
	{ "%", NULL },
	{ "Projects/*", NULL },
	{ "Entw\xc3\xbcrfe", NULL },			/* Entwürfe */
	{ "\xe8\x8d\x89\xe7\xa8\xbf/%", NULL },		/* 草稿 */
	{ "a b", NULL },
	{ "", "empty" },
	{ "a\tb", "control character" },
	{ "\x01", "control character" },
	{ "Trash\n", "control character" },
	{ "Trash\x7f", "control character" },
	{ "\xc0\xaf", "invalid UTF-8" },		/* overlong '/' */
	{ "a\xed\xa0\x80", "invalid UTF-8" },		/* surrogate */
	{ "\xff", "invalid UTF-8" },
	{ "x\xe2\x82", "invalid UTF-8" },		/* truncated */
	{ "\xf4\x90\x80\x80", "invalid UTF-8" },	/* > U+10FFFF */
	{ "\x80Trash", "invalid UTF-8" },
};

static void test_compile(void **state)
{
	struct mp_wildcard *wc;
	const char *error;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(compile_cases); i++) {
		const struct compile_case *c = &compile_cases[i];

		wc = NULL;
		error = NULL;
		ret = mp_wildcard_compile(NULL, c->pattern, &wc, &error);
		if (c->error == NULL) {
			if (ret != 0)
				fail_msg("\"%s\": %s", c->pattern, error);
			assert_string_equal(mp_wildcard_pattern(wc),
					    c->pattern);
			mp_wildcard_free(NULL, &wc);
			assert_null(wc);
			continue;
		}
		if (ret != -1 || error == NULL ||
		    strstr(error, c->error) == NULL)
			fail_msg("\"%s\": ret %d error \"%s\", expected \"%s\"",
				 c->pattern, ret, error == NULL ? "(null)" :
				 error, c->error);
		assert_null(wc);
	}
}

static void test_compile_length(void **state)
{
	char pattern[MP_WILDCARD_MAX_LEN + 2];
	struct mp_wildcard *wc = NULL;
	const char *error;

	(void)state;
	memset(pattern, 'a', MP_WILDCARD_MAX_LEN);
	pattern[MP_WILDCARD_MAX_LEN] = '\0';
	assert_int_equal(mp_wildcard_compile(NULL, pattern, &wc, &error), 0);
	assert_true(mp_wildcard_match(wc, pattern, '/'));
	mp_wildcard_free(NULL, &wc);

	pattern[MP_WILDCARD_MAX_LEN] = 'a';
	pattern[MP_WILDCARD_MAX_LEN + 1] = '\0';
	assert_int_equal(mp_wildcard_compile(NULL, pattern, &wc, &error), -1);
	assert_non_null(strstr(error, "longer than"));
	assert_null(wc);
}

struct match_case {
	const char *pattern;
	const char *name;
	char separator;
	bool match;
};

static const struct match_case match_cases[] = {
	/* '*' matches everything, separators included */
	{ "*", "INBOX", '/', true },
	{ "*", "Projects/apollo/2024", '/', true },
	{ "*", "", '/', true },
	/* '%' stops at the separator given at match time */
	{ "%", "Trash", '/', true },
	{ "%", "Projects/apollo", '/', false },
	{ "%", "Projects/apollo", '.', true },
	{ "%", "Projects.apollo", '.', false },
	{ "%", "", '/', true },
	/* literals: whole name, byte for byte, case-sensitive */
	{ "Trash", "Trash", '/', true },
	{ "Trash", "trash", '/', false },
	{ "Trash", "Trash/old", '/', false },
	{ "Trash", "Trashy", '/', false },
	{ "Trash", "Tras", '/', false },
	{ "Entw\xc3\xbcrfe", "Entw\xc3\xbcrfe", '/', true },
	{ "Entw\xc3\xbcrfe", "ENTW\xc3\x9c" "RFE", '/', false },
	/* Projects and its children */
	{ "Projects/*", "Projects/apollo", '/', true },
	{ "Projects/*", "Projects/apollo/2024", '/', true },
	{ "Projects/*", "Projects/", '/', true },
	{ "Projects/*", "Projects", '/', false },
	{ "Projects/*", "projects/apollo", '/', false },
	{ "Projects/*", "ProjectsX/apollo", '/', false },
	{ "Projects/%", "Projects/apollo", '/', true },
	{ "Projects/%", "Projects/apollo/2024", '/', false },
	{ "Projects/%", "Projects/", '/', true },
	{ "Projects/%", "Projects", '/', false },
	/* a pattern's '/' stands for the separator: with '.' (Maildir++)
	   it matches the name's '.', a pattern's '.' matches nothing (a
	   name's '.' is a separator there), and a name's '/' is an
	   ordinary byte that only wildcards consume */
	{ "Projects/%", "Projects.apollo", '.', true },
	{ "Projects/%", "Projects.apollo.2024", '.', false },
	{ "Projects/*", "Projects.apollo.2024", '.', true },
	{ "Projects/%", "Projects/apollo", '.', false },
	{ "Projects.%", "Projects.apollo", '.', false },
	{ "Projects.apollo", "Projects.apollo", '.', false },
	{ "Projects/apollo", "Projects.apollo", '.', true },
	{ "Projects/apollo", "Projects/apollo", '.', false },
	{ "%", "a/b", '.', true },
	{ "%/%", "a/b.c", '.', true },
	{ "*", "a/b.c", '.', true },
	{ "Work/Sent", "Work\\Sent", '\\', true },
	{ "Work/Sent", "Work/Sent", '\\', false },
	/* no hierarchy: every byte is itself */
	{ "Projects/apollo", "Projects/apollo", '\0', true },
	{ "Projects/%", "Projects/apollo", '\0', true },
	/* wildcards in the middle and at the start */
	{ "%/Sent", "Work/Sent", '/', true },
	{ "%/Sent", "Work/Old/Sent", '/', false },
	{ "*/Sent", "Work/Old/Sent", '/', true },
	{ "*Sent", "Sent", '/', true },
	{ "*Sent*", "Old Sent Items", '/', true },
	{ "A%%%B", "AB", '/', true },
	{ "A%%%B", "A/B", '/', false },
	{ "A*%B", "A/B", '/', true },
	{ "A%*B", "A/x/B", '/', true },
	{ "%.%", "a.b", '/', true },
	{ "%.%", "a/b.c", '/', false },
	{ "a*b*c", "abc", '/', true },
	{ "a*b*c", "axxbyyc", '/', true },
	{ "a*b*c", "axxbyy", '/', false },
	{ "a*b*c", "acb", '/', false },
	{ "**", "x/y", '/', true },
	{ "%%", "x/y", '/', false },
	/* INBOX: case-insensitive as a whole word at the start of both */
	{ "INBOX", "INBOX", '/', true },
	{ "INBOX", "inbox", '/', true },
	{ "inbox", "INBOX", '/', true },
	{ "InBoX", "iNbOx", '/', true },
	{ "INBOX/Sent", "inbox/Sent", '/', true },
	{ "inbox/Sent", "INBOX/Sent", '/', true },
	{ "INBOX/Sent", "INBOX/sent", '/', false },	/* only INBOX folds */
	{ "INBOX/%", "Inbox/Drafts", '/', true },
	{ "INBOX/%", "Inbox/Drafts/x", '/', false },
	{ "INBOX/*", "Inbox/Drafts/x", '/', true },
	{ "INBOX/*", "INBOX", '/', false },
	{ "INBOX/Sent", "inbox.Sent", '.', true },
	{ "inbox/Sent", "INBOX.Sent", '.', true },
	{ "INBOX.Sent", "inbox.Sent", '.', false },	/* '.' matches nothing */
	{ "INBOX.Sent", "inbox.Sent", '/', false },	/* '.' is no separator */
	{ "INBOX.Sent", "INBOX.Sent", '/', true },
	{ "INBOX/Sent", "inbox/Sent", '.', false },
	{ "INBOX", "INBOX/Sent", '/', false },
	{ "INBOX", "INBO", '/', false },
	{ "INBOX", "", '/', false },
	/* only the exact word INBOX folds */
	{ "INBOXES", "INBOXES", '/', true },
	{ "INBOXES", "inboxes", '/', false },
	{ "inboxes", "INBOXES", '/', false },
	{ "INBOX", "INBOXES", '/', false },
	{ "INBOX*", "INBOXES", '/', true },
	{ "INBOX*", "inboxes", '/', false },
	{ "inbox*", "INBOX", '/', false },
	{ "inbox*", "inbox", '/', true },
	{ "INBOX%", "INBOX", '/', true },
	{ "I*", "INBOX", '/', true },
	{ "I*", "inbox", '/', false },
	{ "Archive/INBOX", "Archive/inbox", '/', false },	/* not leading */
	{ "*INBOX", "inbox", '/', false },
	{ "*", "inbox", '/', true },
	{ "%", "Inbox", '/', true },
	{ "%/Sent", "inbox/Sent", '/', true },
};

static void test_match_table(void **state)
{
	struct mp_wildcard *wc;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(match_cases); i++) {
		const struct match_case *c = &match_cases[i];

		wc = compile_ok(c->pattern);
		if (mp_wildcard_match(wc, c->name, c->separator) != c->match)
			fail_msg("\"%s\" vs \"%s\" (separator '%c'): expected "
				 "%s", c->pattern, c->name, c->separator,
				 c->match ? "match" : "no match");
		assert_true(mp_wildcard_match_n(wc, c->name, strlen(c->name),
						c->separator) == c->match);
		mp_wildcard_free(NULL, &wc);
	}
}

/* match_n() tests prefixes of one name, as folder_quota does for the
   ancestors of a folder under a subtree rule. */
static void test_match_n(void **state)
{
	static const char name[] = "Projects/apollo/2024";
	struct mp_wildcard *wc;

	(void)state;
	wc = compile_ok("Projects");
	assert_true(mp_wildcard_match_n(wc, name, 8, '/'));
	assert_false(mp_wildcard_match_n(wc, name, 7, '/'));
	assert_false(mp_wildcard_match_n(wc, name, 15, '/'));
	mp_wildcard_free(NULL, &wc);

	wc = compile_ok("Projects/%");
	assert_false(mp_wildcard_match_n(wc, name, 8, '/'));
	assert_true(mp_wildcard_match_n(wc, name, 15, '/'));
	assert_false(mp_wildcard_match_n(wc, name, sizeof(name) - 1, '/'));
	mp_wildcard_free(NULL, &wc);

	wc = compile_ok("inbox");
	assert_true(mp_wildcard_match_n(wc, "INBOX/Sent", 5, '/'));
	assert_true(mp_wildcard_match_n(wc, "INBOXES", 5, '/'));
	mp_wildcard_free(NULL, &wc);

	wc = compile_ok("*");
	assert_true(mp_wildcard_match_n(wc, name, 0, '/'));
	mp_wildcard_free(NULL, &wc);
}

static void test_literal(void **state)
{
	static const struct {
		const char *pattern;
		bool literal;
	} cases[] = {
		{ "INBOX", true }, { "Trash", true }, { "a b/c.d", true },
		{ "*", false }, { "%", false }, { "Projects/*", false },
		{ "a%b", false },
	};
	struct mp_wildcard *wc;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		wc = compile_ok(cases[i].pattern);
		assert_true(mp_wildcard_is_literal(wc) == cases[i].literal);
		assert_string_equal(mp_wildcard_pattern(wc), cases[i].pattern);
		mp_wildcard_free(NULL, &wc);
	}
	mp_wildcard_free(NULL, &wc);	/* NULL: no-op */
}

/* ---- differential test against a reference matcher ---- */

/* The separator rule of wildcard.h: a pattern's '/' is the separator,
   unless the separator is '/' or none. */
static bool mapped(char sep)
{
	return sep != '/' && sep != '\0';
}

static char pattern_sep(char sep)
{
	return mapped(sep) ? '/' : sep;
}

/* Whether pattern byte p (no wildcard) matches name byte c. */
static bool byte_matches(char p, char c, char sep)
{
	if (!mapped(sep))
		return p == c;
	if (p == '/')
		return c == sep;
	return c == p && c != sep;
}

/* The definition, written the slow and obvious way: dp[i][j] is true
   when pattern[0..i) matches name[0..j). */
static bool reference_match(const char *pattern, size_t plen,
			    const char *name, size_t nlen, char sep)
{
	bool *dp, result;
	size_t i, j, cols = nlen + 1;

	/* the INBOX rule: both sides start with the word, the pattern's
	   ending at its own '/' */
	if (plen >= 5 && strncasecmp(pattern, "INBOX", 5) == 0 &&
	    (plen == 5 || pattern[5] == pattern_sep(sep)) &&
	    nlen >= 5 && strncasecmp(name, "INBOX", 5) == 0 &&
	    (nlen == 5 || name[5] == sep)) {
		pattern += 5;
		plen -= 5;
		name += 5;
		nlen -= 5;
		cols = nlen + 1;
	}
	dp = calloc((plen + 1) * cols, sizeof(*dp));
	assert_non_null(dp);
	dp[0] = true;
	for (i = 1; i <= plen; i++) {
		char p = pattern[i - 1];

		for (j = 0; j <= nlen; j++) {
			bool v;

			if (p == '*')
				v = dp[(i - 1) * cols + j] ||
					(j > 0 && dp[i * cols + j - 1]);
			else if (p == '%')
				v = dp[(i - 1) * cols + j] ||
					(j > 0 && name[j - 1] != sep &&
					 dp[i * cols + j - 1]);
			else
				v = j > 0 && byte_matches(p, name[j - 1], sep) &&
					dp[(i - 1) * cols + j - 1];
			dp[i * cols + j] = v;
		}
	}
	result = dp[plen * cols + nlen];
	free(dp);
	return result;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned int rng(unsigned int n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned int)(rng_state % n);
}

/* A name the pattern probably matches: wildcards expanded to short
   random runs, then sometimes one byte changed, dropped or added. */
static size_t expand_pattern(const char *pattern, size_t plen, char *name,
			     size_t max)
{
	static const char alphabet[] = "ab/.";
	size_t i, len = 0, run;

	for (i = 0; i < plen && len < max; i++) {
		if (pattern[i] != '*' && pattern[i] != '%') {
			name[len++] = pattern[i];
			continue;
		}
		for (run = rng(4); run > 0 && len < max; run--)
			name[len++] = alphabet[rng(4)];
	}
	switch (rng(4)) {
	case 0:
		if (len > 0)
			name[rng((unsigned int)len)] = alphabet[rng(4)];
		break;
	case 1:
		if (len > 0)
			len--;
		break;
	case 2:
		if (len < max)
			name[len++] = alphabet[rng(4)];
		break;
	default:
		break;
	}
	return len;
}

/* The shortest matching ancestor, the slow way: try each boundary. */
static size_t ancestor_by_trial(const struct mp_wildcard *wc,
				const char *name, size_t len, char sep)
{
	size_t p;

	for (p = 1; p <= len; p++) {
		if ((p == len || name[p] == sep) &&
		    mp_wildcard_match_n(wc, name, p, sep))
			return p;
	}
	return MP_WILDCARD_NO_MATCH;
}

static void test_differential(void **state)
{
	/* INBOX variants so the INBOX rule is exercised too */
	static const char *const prefixes[] = {
		"", "", "", "INBOX", "inbox/", "Inbox.", "INBOXa",
	};
	static const char pattern_bytes[] = "ab/.*%";
	char pattern[400], name[1200];
	struct mp_wildcard *wc;
	unsigned int round, matches = 0, ancestors = 0;
	size_t plen, nlen, i;
	char sep;

	(void)state;
	for (round = 0; round < 20000; round++) {
		const char *prefix = prefixes[rng(N_ELEMENTS(prefixes))];

		/* short patterns mostly; some span up to 5 bitset words */
		plen = rng(8) == 0 ? 60 + rng(260) : 1 + rng(16);
		strcpy(pattern, prefix);
		for (i = strlen(prefix); i < plen; i++)
			pattern[i] = pattern_bytes[rng(6)];
		plen = strlen(prefix) > plen ? strlen(prefix) : plen;
		pattern[plen] = '\0';
		sep = rng(2) == 0 ? '/' : '.';

		nlen = expand_pattern(pattern, plen, name, sizeof(name) - 1);
		name[nlen] = '\0';
		if (nlen >= 5 && rng(2) == 0)
			memcpy(name, rng(2) == 0 ? "inbox" : "INBOX", 5);

		wc = compile_ok(pattern);
		if (mp_wildcard_match(wc, name, sep) !=
		    reference_match(pattern, plen, name, nlen, sep))
			fail_msg("\"%s\" vs \"%s\" (separator '%c'): "
				 "reference says %s", pattern, name, sep,
				 reference_match(pattern, plen, name, nlen,
						 sep) ? "match" : "no match");
		matches += mp_wildcard_match(wc, name, sep) ? 1 : 0;
		if (mp_wildcard_match_ancestor(wc, name, nlen, sep) !=
		    ancestor_by_trial(wc, name, nlen, sep))
			fail_msg("\"%s\" vs \"%s\" (separator '%c'): "
				 "ancestor %zu, by trial %zu", pattern, name,
				 sep, mp_wildcard_match_ancestor(wc, name, nlen,
								 sep),
				 ancestor_by_trial(wc, name, nlen, sep));
		ancestors += mp_wildcard_match_ancestor(wc, name, nlen, sep) <
			nlen ? 1 : 0;
		mp_wildcard_free(NULL, &wc);
	}
	/* the generator must exercise both outcomes, and proper ancestors */
	assert_true(matches > 2000 && matches < 18000);
	assert_true(ancestors > 200);
}

struct ancestor_case {
	const char *pattern;
	const char *name;
	char separator;
	size_t expected;	/* MP_WILDCARD_NO_MATCH: none */
};

static const struct ancestor_case ancestor_cases[] = {
	{ "Archive", "Archive/2024/Q1", '/', 7 },
	{ "Archive", "Archive", '/', 7 },
	{ "Archive", "Archived/2024", '/', MP_WILDCARD_NO_MATCH },
	{ "Archive", "Archive.2024", '/', MP_WILDCARD_NO_MATCH },
	{ "Archive", "Archive.2024", '.', 7 },
	{ "Projects/*", "Projects/apollo/docs", '/', 15 },
	{ "Projects/%", "Projects/apollo/docs/x", '/', 15 },
	{ "Projects/*", "Projects", '/', MP_WILDCARD_NO_MATCH },
	{ "*", "a/b/c", '/', 1 },
	{ "*/c", "a/b/c/d", '/', 5 },
	{ "%/c", "a/b/c/d", '/', MP_WILDCARD_NO_MATCH },
	{ "INBOX", "inbox/Sub", '/', 5 },
	{ "INBOX/%", "Inbox/Sub/Deeper", '/', 9 },
	{ "*", "/leading", '/', 8 },	/* no empty root */
	{ "%", "/leading", '/', MP_WILDCARD_NO_MATCH },
};

static void test_ancestor_table(void **state)
{
	struct mp_wildcard *wc;
	size_t i, got;

	(void)state;
	for (i = 0; i < N_ELEMENTS(ancestor_cases); i++) {
		const struct ancestor_case *c = &ancestor_cases[i];

		wc = compile_ok(c->pattern);
		got = mp_wildcard_match_ancestor(wc, c->name, strlen(c->name),
						 c->separator);
		if (got != c->expected)
			fail_msg("\"%s\" in \"%s\": %zu, expected %zu",
				 c->pattern, c->name, got, c->expected);
		mp_wildcard_free(NULL, &wc);
	}
}

/* ---- adversarial names: must finish quickly (not timed here) ---- */

#define LONG_NAME_LEN (100 * 1024)

static void test_adversarial(void **state)
{
	char *name, *pattern;
	struct mp_wildcard *wc;
	size_t i;

	(void)state;
	name = malloc(LONG_NAME_LEN + 1);
	pattern = malloc(MP_WILDCARD_MAX_LEN + 1);
	assert_non_null(name);
	assert_non_null(pattern);
	memset(name, 'a', LONG_NAME_LEN);
	name[LONG_NAME_LEN] = '\0';

	wc = compile_ok("*a*a*a*a*a*a*a*b");
	assert_false(mp_wildcard_match(wc, name, '/'));
	name[LONG_NAME_LEN - 1] = 'b';
	assert_true(mp_wildcard_match(wc, name, '/'));
	name[LONG_NAME_LEN - 1] = 'a';
	mp_wildcard_free(NULL, &wc);

	wc = compile_ok("%a%a%a%a%a%a%a%b");
	assert_false(mp_wildcard_match(wc, name, '/'));
	mp_wildcard_free(NULL, &wc);

	/* the longest pattern: 512 times "*a", then 'b' can never come */
	for (i = 0; i + 2 <= MP_WILDCARD_MAX_LEN - 1; i += 2)
		memcpy(pattern + i, "*a", 2);
	pattern[i++] = 'b';
	pattern[i] = '\0';
	wc = compile_ok(pattern);
	assert_false(mp_wildcard_match(wc, name, '/'));
	mp_wildcard_free(NULL, &wc);

	/* all '%' against a name full of separators */
	memset(pattern, '%', MP_WILDCARD_MAX_LEN);
	pattern[MP_WILDCARD_MAX_LEN] = '\0';
	wc = compile_ok(pattern);
	for (i = 0; i < LONG_NAME_LEN; i += 2)
		name[i] = '/';
	assert_false(mp_wildcard_match(wc, name, '/'));
	assert_true(mp_wildcard_match(wc, name, '.'));
	mp_wildcard_free(NULL, &wc);

	/* a deep hostile folder y/y/y/...: one pass, not one per ancestor */
	for (i = 0; i < LONG_NAME_LEN; i++)
		name[i] = i % 2 == 0 ? 'y' : '/';
	wc = compile_ok("*x*y");
	assert_int_equal(mp_wildcard_match_ancestor(wc, name, LONG_NAME_LEN,
						    '/'),
			 MP_WILDCARD_NO_MATCH);
	mp_wildcard_free(NULL, &wc);

	free(pattern);
	free(name);
}

/* ---- the injected allocator is the one used ---- */

struct counting_env {
	struct mp_env env;
	unsigned int allocs, frees;
	bool fail;
};

static void *counting_alloc(void *ctx, size_t size)
{
	struct counting_env *cenv = ctx;

	if (cenv->fail)
		return NULL;
	cenv->allocs++;
	return calloc(1, size);
}

static void counting_free(void *ctx, void *ptr)
{
	struct counting_env *cenv = ctx;

	if (ptr != NULL)
		cenv->frees++;
	free(ptr);
}

static void test_env(void **state)
{
	struct counting_env cenv = {
		.env = { .alloc = counting_alloc, .free = counting_free },
	};
	struct mp_wildcard *wc = NULL;
	const char *error;

	(void)state;
	cenv.env.ctx = &cenv;
	assert_int_equal(mp_wildcard_compile(&cenv.env, "Projects/*", &wc,
					     &error), 0);
	assert_true(mp_wildcard_match(wc, "Projects/x", '/'));
	mp_wildcard_free(&cenv.env, &wc);
	assert_int_equal(cenv.allocs, 1);
	assert_int_equal(cenv.frees, 1);

	cenv.fail = true;
	assert_int_equal(mp_wildcard_compile(&cenv.env, "Trash", &wc,
					     &error), MP_WILDCARD_ERROR_NOMEM);
	assert_string_equal(error, "out of memory");
	assert_null(wc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_compile_length),
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_n),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_ancestor_table),
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_env),
	};

	return cmocka_run_group_tests_name("wildcard", tests, NULL, NULL);
}

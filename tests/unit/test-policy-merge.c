/* test-policy-merge.c: inheritance and folder rules (core/policy-*.c).
 *
 * Small files, each line numbered in a comment, so that the origins in
 * the tables can be checked by eye: retention key by key across user,
 * domain and default blocks; folder rules merged by pattern and key;
 * which rule governs which root, deepest first; and the matcher's
 * shortcuts checked against trying every ancestor, also with folder
 * names built to be slow. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "mailpolicy/wildcard.h"
#include "policy-test.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static void test_inheritance(void **state)
{
	static const char text[] =
		/* 1 */ "pop3_retention {\n"
		/* 2 */ "  on_retrieve = move \"POP3 Retrieved\"\n"
		/* 3 */ "}\n"
		/* 4 */ "pop3_retention user bob@b.example {\n"
		/* 5 */ "  max_retained_size = 1G\n"
		/* 6 */ "}\n"
		/* 7 */ "pop3_retention user carol@c.example {\n"
		/* 8 */ "  on_dele = hide\n"
		/* 9 */ "}\n"
		/* 10 */ "pop3_retention domain C.Example {\n"
		/* 11 */ "  keep_after_retrieval = 2w\n"
		/* 12 */ "  on_dele = defer 36h\n"
		/* 13 */ "  on_retrieve = none\n"
		/* 14 */ "}\n"
		/* 15 */ "pop3_retention user postmaster {\n"
		/* 16 */ "  keep_after_retrieval = 0\n"
		/* 17 */ "}\n";
	static const struct retention_case cases[] = {
		{ "alice@a.example", true, MP_DURATION_NEVER, MP_DELE_EXPUNGE,
		  0, MP_RETRIEVE_MOVE, "POP3 Retrieved", 0,
		  { BUILTIN_ORIGIN, BUILTIN_ORIGIN, DEFAULT_ORIGIN(2),
		    BUILTIN_ORIGIN } },
		/* a user whose domain has no block: default + user */
		{ "bob@b.example", true, MP_DURATION_NEVER, MP_DELE_EXPUNGE,
		  0, MP_RETRIEVE_MOVE, "POP3 Retrieved", PT_G,
		  { BUILTIN_ORIGIN, BUILTIN_ORIGIN, DEFAULT_ORIGIN(2),
		    USER_ORIGIN("bob@b.example", 5) } },
		/* a user block before its domain block still inherits */
		{ "carol@C.EXAMPLE", true, 14 * PT_DAY, MP_DELE_HIDE, 0,
		  MP_RETRIEVE_NONE, NULL, 0,
		  { DOMAIN_ORIGIN("c.example", 11),
		    USER_ORIGIN("carol@c.example", 8),
		    DOMAIN_ORIGIN("c.example", 13), BUILTIN_ORIGIN } },
		{ "dave@c.example", true, 14 * PT_DAY, MP_DELE_DEFER, 36 * 3600,
		  MP_RETRIEVE_NONE, NULL, 0,
		  { DOMAIN_ORIGIN("c.example", 11),
		    DOMAIN_ORIGIN("c.example", 12),
		    DOMAIN_ORIGIN("c.example", 13), BUILTIN_ORIGIN } },
		{ "postmaster", true, 0, MP_DELE_EXPUNGE, 0, MP_RETRIEVE_MOVE,
		  "POP3 Retrieved", 0,
		  { USER_ORIGIN("postmaster", 16), BUILTIN_ORIGIN,
		    DEFAULT_ORIGIN(2), BUILTIN_ORIGIN } },
		/* a plain login matches only its own user block */
		{ "postmaster@c.example", true, 14 * PT_DAY, MP_DELE_DEFER,
		  36 * 3600, MP_RETRIEVE_NONE, NULL, 0,
		  { DOMAIN_ORIGIN("c.example", 11),
		    DOMAIN_ORIGIN("c.example", 12),
		    DOMAIN_ORIGIN("c.example", 13), BUILTIN_ORIGIN } },
	};
	struct mp_policy *policy = policy_test_load(text);
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		policy_test_check_retention(policy, &cases[i]);
	mp_policy_unref(&policy);
}

/* Whether pop3_retention applies: only blocks of that section count. */
static void test_retention_applies(void **state)
{
	static const char text[] =
		"pop3_retention domain on.example {\n"
		"}\n"
		"folder_quota {\n"
		"  folder Trash {\n"
		"  }\n"
		"}\n"
		"folder_quota user u@off.example {\n"
		"  folder Junk {\n"
		"    storage = 1M\n"
		"  }\n"
		"}\n"
		"pop3_retention user v@off.example {\n"
		"  on_dele = hide\n"
		"}\n";
	struct mp_policy *policy = policy_test_load(text);
	struct mp_retention r;

	(void)state;
	assert_true(mp_policy_has_retention(policy));
	assert_true(mp_policy_retention(policy, "x@on.example", &r));
	assert_int_equal(r.origin[0].scope, MP_ORIGIN_BUILTIN);
	assert_false(mp_policy_retention(policy, "x@off.example", &r));
	assert_false(mp_policy_retention(policy, "u@off.example", &r));
	assert_true(mp_policy_retention(policy, "v@off.example", &r));
	assert_int_equal(r.on_dele, MP_DELE_HIDE);
	/* an empty rule block: a rule with no limits */
	assert_int_equal(mp_policy_folder_rule_count(policy, "x@y.z"), 1);
	assert_int_equal(mp_policy_folder_rule_count(policy, "u@off.example"), 2);
	mp_policy_unref(&policy);
}

static void test_folder_merge(void **state)
{
	static const char text[] =
		/* 1 */ "folder_quota {\n"
		/* 2 */ "  folder Trash {\n"
		/* 3 */ "    storage = 100M\n"
		/* 4 */ "    messages = 1000\n"
		/* 5 */ "  }\n"
		/* 6 */ "  folder Archive {\n"
		/* 7 */ "    storage = 2G\n"
		/* 8 */ "  }\n"
		/* 9 */ "}\n"
		/* 10 */ "folder_quota domain d.example {\n"
		/* 11 */ "  folder Sent {\n"
		/* 12 */ "    messages = 20000\n"
		/* 13 */ "  }\n"
		/* 14 */ "  folder Trash {\n"
		/* 15 */ "    storage = 200M\n"
		/* 16 */ "  }\n"
		/* 17 */ "}\n"
		/* 18 */ "folder_quota user vip@d.example {\n"
		/* 19 */ "  folder Trash {\n"
		/* 20 */ "    messages = 0\n"
		/* 21 */ "  }\n"
		/* 22 */ "  folder Archive {\n"
		/* 23 */ "    storage = 0\n"
		/* 24 */ "    scope = subtree\n"
		/* 25 */ "  }\n"
		/* 26 */ "  folder Drafts {\n"
		/* 27 */ "    storage = 1M\n"
		/* 28 */ "  }\n"
		/* 29 */ "}\n";
	static const struct {
		const char *user;
		size_t idx;
		const char *pattern;
		uint64_t storage, messages;
		enum mp_folder_scope scope;
		struct origin_case origin[MP_FOLDER_KEY_COUNT];
	} cases[] = {
		{ "a@x.example", 0, "Trash", 100 * PT_M, 1000, FOL,
		  { DEFAULT_ORIGIN(3), DEFAULT_ORIGIN(4), BUILTIN_ORIGIN } },
		{ "a@x.example", 1, "Archive", 2 * PT_G, 0, FOL,
		  { DEFAULT_ORIGIN(7), BUILTIN_ORIGIN, BUILTIN_ORIGIN } },
		{ "a@d.example", 0, "Trash", 200 * PT_M, 1000, FOL,
		  { DOMAIN_ORIGIN("d.example", 15), DEFAULT_ORIGIN(4),
		    BUILTIN_ORIGIN } },
		{ "a@d.example", 1, "Archive", 2 * PT_G, 0, FOL,
		  { DEFAULT_ORIGIN(7), BUILTIN_ORIGIN, BUILTIN_ORIGIN } },
		{ "a@d.example", 2, "Sent", 0, 20000, FOL,
		  { BUILTIN_ORIGIN, DOMAIN_ORIGIN("d.example", 12),
		    BUILTIN_ORIGIN } },
		/* user over domain over default, key by key; 0 lifts */
		{ "vip@d.example", 0, "Trash", 200 * PT_M, 0, FOL,
		  { DOMAIN_ORIGIN("d.example", 15),
		    USER_ORIGIN("vip@d.example", 20), BUILTIN_ORIGIN } },
		{ "vip@d.example", 1, "Archive", 0, 0, SUB,
		  { USER_ORIGIN("vip@d.example", 23), BUILTIN_ORIGIN,
		    USER_ORIGIN("vip@d.example", 24) } },
		{ "vip@d.example", 2, "Sent", 0, 20000, FOL,
		  { BUILTIN_ORIGIN, DOMAIN_ORIGIN("d.example", 12),
		    BUILTIN_ORIGIN } },
		{ "vip@d.example", 3, "Drafts", PT_M, 0, FOL,
		  { USER_ORIGIN("vip@d.example", 27), BUILTIN_ORIGIN,
		    BUILTIN_ORIGIN } },
	};
	struct mp_policy *policy = policy_test_load(text);
	struct mp_folder_rule rule;
	unsigned int k;
	size_t i;

	(void)state;
	assert_int_equal(mp_policy_folder_rule_count(policy, "a@x.example"), 2);
	assert_int_equal(mp_policy_folder_rule_count(policy, "a@d.example"), 3);
	assert_int_equal(mp_policy_folder_rule_count(policy, "vip@d.example"),
			 4);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		assert_true(mp_policy_folder_rule(policy, cases[i].user,
						  cases[i].idx, &rule));
		assert_string_equal(rule.pattern, cases[i].pattern);
		assert_int_equal(rule.storage, cases[i].storage);
		assert_int_equal(rule.messages, cases[i].messages);
		assert_int_equal(rule.scope, cases[i].scope);
		for (k = 0; k < MP_FOLDER_KEY_COUNT; k++)
			policy_test_assert_origin(&rule.origin[k], &cases[i].origin[k],
				      cases[i].pattern);
	}
	mp_policy_unref(&policy);
}

/* INBOX is one name whatever its case: a domain's `folder inbox`
   overrides the default's `folder INBOX` (before, both loaded as two
   rules and the override was silently lost to the earlier one). */
static void test_inbox_one_name(void **state)
{
	static const char text[] =
		/* 1 */ "folder_quota {\n"
		/* 2 */ "  folder INBOX {\n"
		/* 3 */ "    storage = 10M\n"
		/* 4 */ "    messages = 100\n"
		/* 5 */ "  }\n"
		/* 6 */ "  folder \"INBOX/Sent\" {\n"
		/* 7 */ "    storage = 1M\n"
		/* 8 */ "  }\n"
		/* 9 */ "}\n"
		/* 10 */ "folder_quota domain d.example {\n"
		/* 11 */ "  folder inbox {\n"
		/* 12 */ "    storage = 20M\n"
		/* 13 */ "  }\n"
		/* 14 */ "  folder \"Inbox/Sent\" {\n"
		/* 15 */ "    messages = 5\n"
		/* 16 */ "  }\n"
		/* 17 */ "}\n";
	static const struct folder_case cases[] = {
		{ "a@d.example", "inbox", '/', 1,
		  { { "INBOX", "inbox", 20 * PT_M, 100, FOL } } },
		{ "a@d.example", "INBOX", '/', 1,
		  { { "INBOX", "INBOX", 20 * PT_M, 100, FOL } } },
		{ "a@x.example", "Inbox", '/', 1,
		  { { "INBOX", "Inbox", 10 * PT_M, 100, FOL } } },
		{ "a@d.example", "INBOX/Sent", '/', 1,
		  { { "INBOX/Sent", "INBOX/Sent", 1 * PT_M, 5, FOL } } },
		/* Maildir++: the same rule under separator '.' */
		{ "a@d.example", "inbox.Sent", '.', 1,
		  { { "INBOX/Sent", "inbox.Sent", 1 * PT_M, 5, FOL } } },
		/* only INBOX folds: Sent stays case-sensitive */
		{ "a@d.example", "INBOX/sent", '/', 0, { { 0 } } },
	};
	struct mp_policy *policy = policy_test_load(text);
	struct mp_folder_rule rule;
	size_t i;

	(void)state;
	assert_int_equal(mp_policy_folder_rule_count(policy, "a@d.example"), 2);
	assert_true(mp_policy_folder_rule(policy, "a@d.example", 0, &rule));
	assert_string_equal(rule.pattern, "INBOX");
	assert_int_equal(rule.storage, 20 * PT_M);
	assert_int_equal(rule.origin[MP_FOLDER_STORAGE].scope, MP_ORIGIN_DOMAIN);
	assert_int_equal(rule.origin[MP_FOLDER_STORAGE].line, 12);
	assert_int_equal(rule.origin[MP_FOLDER_MESSAGES].line, 4);
	for (i = 0; i < N_ELEMENTS(cases); i++)
		policy_test_check_folder(policy, &cases[i]);
	mp_policy_unref(&policy);
}

/* when_full merges key by key like the others. */
static void test_when_full_merge(void **state)
{
	static const char text[] =
		/* 1 */ "folder_quota {\n"
		/* 2 */ "  folder Trash {\n"
		/* 3 */ "    storage = 100M\n"
		/* 4 */ "    when_full = expunge_oldest\n"
		/* 5 */ "  }\n"
		/* 6 */ "  folder Junk {\n"
		/* 7 */ "    storage = 50M\n"
		/* 8 */ "  }\n"
		/* 9 */ "}\n"
		/* 10 */ "folder_quota domain d.example {\n"
		/* 11 */ "  folder Trash {\n"
		/* 12 */ "    storage = 1G\n"
		/* 13 */ "  }\n"
		/* 14 */ "  folder Junk {\n"
		/* 15 */ "    when_full = expunge_oldest\n"
		/* 16 */ "  }\n"
		/* 17 */ "}\n"
		/* 18 */ "folder_quota user keep@d.example {\n"
		/* 19 */ "  folder Trash {\n"
		/* 20 */ "    when_full = refuse\n"
		/* 21 */ "  }\n"
		/* 22 */ "}\n";
	static const struct {
		const char *user;
		size_t idx;
		enum mp_when_full when_full;
		struct origin_case origin;
	} cases[] = {
		{ "a@x.example", 0, MP_WHEN_FULL_EXPUNGE_OLDEST, DEFAULT_ORIGIN(4) },
		{ "a@x.example", 1, MP_WHEN_FULL_REFUSE, BUILTIN_ORIGIN },
		{ "a@d.example", 0, MP_WHEN_FULL_EXPUNGE_OLDEST, DEFAULT_ORIGIN(4) },
		{ "a@d.example", 1, MP_WHEN_FULL_EXPUNGE_OLDEST,
		  DOMAIN_ORIGIN("d.example", 15) },
		{ "keep@d.example", 0, MP_WHEN_FULL_REFUSE,
		  USER_ORIGIN("keep@d.example", 20) },
		{ "keep@d.example", 1, MP_WHEN_FULL_EXPUNGE_OLDEST,
		  DOMAIN_ORIGIN("d.example", 15) },
	};
	struct mp_policy *policy = policy_test_load(text);
	struct mp_folder_rule rule;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		assert_true(mp_policy_folder_rule(policy, cases[i].user,
						  cases[i].idx, &rule));
		assert_int_equal(rule.when_full, cases[i].when_full);
		policy_test_assert_origin(&rule.origin[MP_FOLDER_WHEN_FULL],
					  &cases[i].origin, rule.pattern);
	}
	/* the domain's Trash changed storage only */
	assert_true(mp_policy_folder_rule(policy, "keep@d.example", 0, &rule));
	assert_int_equal(rule.storage, PT_G);
	mp_policy_unref(&policy);
}

/* ---- which folder rule wins ---- */

static const char precedence_text[] =
	"folder_quota {\n"
	"  folder \"*\" {\n"			/* 0 */
	"    storage = 1M\n"
	"  }\n"
	"  folder \"Projects/%\" {\n"		/* 1 */
	"    storage = 2M\n"
	"  }\n"
	"  folder Projects/apollo {\n"		/* 2 */
	"    storage = 3M\n"
	"  }\n"
	"  folder \"Pro*\" {\n"			/* 3 */
	"    storage = 4M\n"
	"  }\n"
	"  folder \"Projects/*\" {\n"		/* 4 */
	"    storage = 5M\n"
	"  }\n"
	"  folder Archive {\n"			/* 5 */
	"    storage = 6M\n"
	"    scope = subtree\n"
	"  }\n"
	"  folder \"A*\" {\n"			/* 6 */
	"    storage = 7M\n"
	"    scope = subtree\n"
	"  }\n"
	"  folder \"%/2024\" {\n"		/* 7 */
	"    storage = 8M\n"
	"  }\n"
	"  folder \"*/2024\" {\n"		/* 8 */
	"    storage = 9M\n"
	"    scope = subtree\n"
	"  }\n"
	"  folder INBOX {\n"			/* 9 */
	"    storage = 10M\n"
	"    scope = subtree\n"
	"  }\n"
	"  folder \"x%\" {\n"			/* 10 */
	"    storage = 11M\n"
	"  }\n"
	"  folder \"%x\" {\n"			/* 11 */
	"    storage = 12M\n"
	"  }\n"
	"}\n";

static const struct folder_case precedence_cases[] = {
	/* literal beats wildcard for the same root */
	{ "u@e.example", "Projects/apollo", '/', 1,
	  { { "Projects/apollo", "Projects/apollo", 3 * PT_M, 0, FOL } } },
	/* more literal bytes: "Projects/%" and "Projects/" + '*' have 9,
	   "Pro*" 3, "*" none; between equals, the earlier rule */
	{ "u@e.example", "Projects/gemini", '/', 1,
	  { { "Projects/%", "Projects/gemini", 2 * PT_M, 0, FOL } } },
	{ "u@e.example", "Projects/gemini/docs", '/', 1,
	  { { "Projects/*", "Projects/gemini/docs", 5 * PT_M, 0, FOL } } },
	{ "u@e.example", "Pro", '/', 1,
	  { { "Pro*", "Pro", 4 * PT_M, 0, FOL } } },
	{ "u@e.example", "Other", '/', 1,
	  { { "*", "Other", 1 * PT_M, 0, FOL } } },
	/* several roots, deepest first: the folder's own, then the
	   subtree of an ancestor (Archive beats A* there) */
	{ "u@e.example", "Archive/2024", '/', 2,
	  { { "%/2024", "Archive/2024", 8 * PT_M, 0, FOL },
	    { "Archive", "Archive", 6 * PT_M, 0, SUB } } },
	/* A* as a subtree roots at the highest match: Ab */
	{ "u@e.example", "Ab/c/2024", '/', 2,
	  { { "*/2024", "Ab/c/2024", 9 * PT_M, 0, SUB },
	    { "A*", "Ab", 7 * PT_M, 0, SUB } } },
	{ "u@e.example", "Ab/2024/x", '/', 3,
	  { { "*", "Ab/2024/x", 1 * PT_M, 0, FOL },
	    { "*/2024", "Ab/2024", 9 * PT_M, 0, SUB },
	    { "A*", "Ab", 7 * PT_M, 0, SUB } } },
	/* INBOX is case-insensitive, also as a subtree root */
	{ "u@e.example", "inbox/Sub", '/', 2,
	  { { "*", "inbox/Sub", 1 * PT_M, 0, FOL },
	    { "INBOX", "inbox", 10 * PT_M, 0, SUB } } },
	{ "u@e.example", "Inbox", '/', 1,
	  { { "INBOX", "Inbox", 10 * PT_M, 0, SUB } } },
	/* equal literal bytes, both wildcards: the earlier rule */
	{ "u@e.example", "xx", '/', 1,
	  { { "x%", "xx", 11 * PT_M, 0, FOL } } },
	/* a separator of NUL: subtree rules see only the name itself */
	{ "u@e.example", "Archive/2024", '\0', 1,
	  { { "%/2024", "Archive/2024", 8 * PT_M, 0, FOL } } },
};

static void test_folder_precedence(void **state)
{
	struct mp_policy *policy = policy_test_load(precedence_text);
	struct mp_folder_match matches[2];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(precedence_cases); i++)
		policy_test_check_folder(policy, &precedence_cases[i]);
	/* max below the count: fills max, returns the count */
	assert_int_equal(mp_policy_folder_match(policy, "u", "Ab/2024/x", '/',
						matches, 1), 3);
	assert_string_equal(matches[0].rule.pattern, "*");
	assert_int_equal(mp_policy_folder_match(policy, "u", "Ab/2024/x", '/',
						NULL, 0), 3);
	assert_int_equal(mp_policy_folder_match(policy, "u", NULL, '/',
						matches, 2), 0);
	mp_policy_unref(&policy);
}

/* The matcher takes shortcuts (literal prefixes, bisection over the
   ancestors of * patterns, one candidate for % patterns); each must
   give what trying every ancestor with the plain wildcard gives. */
static void random_string(char *buf, size_t max, const char *alphabet,
			  unsigned int *seed)
{
	static const char *const heads[] = { "", "", "", "INBOX", "inbox",
					     "Inbox" };
	size_t n = (size_t)(rand_r(seed) % (int)max), alen = strlen(alphabet);
	size_t i, len;

	strcpy(buf, heads[rand_r(seed) % 6]);
	len = strlen(buf);
	for (i = 0; i < n; i++)
		buf[len++] = alphabet[rand_r(seed) % (int)alen];
	buf[len] = '\0';
}

static void test_folder_match_differential(void **state)
{
	char pattern[32], folder[64], text[256];
	struct mp_folder_match match;
	struct mp_wildcard *wc;
	struct mp_policy *policy;
	const char *error;
	unsigned int seed = 1, round;
	size_t n, p, len, want;
	char sep;
	int scope;

	(void)state;
	for (round = 0; round < 20000; round++) {
		random_string(pattern, 8, "ab/.*%", &seed);
		if (pattern[0] == '\0')
			continue;
		random_string(folder, 14, "ab/.", &seed);
		sep = rand_r(&seed) % 2 ? '/' : '.';
		scope = rand_r(&seed) % 2;
		snprintf(text, sizeof(text), "folder_quota {\n  folder \"%s\" {"
			 "\n    scope = %s\n  }\n}\n", pattern,
			 mp_folder_scope_name(scope));
		policy = policy_test_load(text);
		assert_int_equal(mp_wildcard_compile(NULL, pattern, &wc,
						     &error), 0);
		/* the oracle: the shortest ancestor (subtree) or the name */
		len = strlen(folder);
		want = SIZE_MAX;
		for (p = 1; p <= len; p++) {
			if (scope == MP_FOLDER_SCOPE_FOLDER && p < len)
				continue;
			if (p < len && folder[p] != sep)
				continue;
			if (mp_wildcard_match_n(wc, folder, p, sep)) {
				want = p;
				break;
			}
		}
		n = mp_policy_folder_match(policy, "u", folder, sep, &match, 1);
		if (n != (want != SIZE_MAX ? 1 : 0) ||
		    (n == 1 && match.root_len != want))
			fail_msg("pattern \"%s\" %s, folder \"%s\" sep %c: %zu "
				 "match(es) root %zu, expected root %zu",
				 pattern, mp_folder_scope_name(scope), folder,
				 sep, n, n == 1 ? match.root_len : 0, want);
		mp_wildcard_free(NULL, &wc);
		mp_policy_unref(&policy);
	}
}

/* Client-chosen folder names must not make matching slow: a deep
   folder against subtree rules of each kind. */
static void test_folder_match_deep(void **state)
{
	static const char text[] =
		"folder_quota {\n"
		"  folder \"a*\" {\n    scope = subtree\n  }\n"
		"  folder \"*b*\" {\n    scope = subtree\n  }\n"
		"  folder \"%/%/%/x\" {\n    scope = subtree\n  }\n"
		"  folder \"*/a/x\" {\n    scope = subtree\n  }\n"
		"}\n";
	struct mp_policy *policy = policy_test_load(text);
	struct mp_folder_match matches[4];
	size_t len = 60000, i;
	char *folder = malloc(len + 1);
	struct timespec t0, t1;
	double ms;

	(void)state;
	for (i = 0; i < len; i++)
		folder[i] = i % 2 ? '/' : 'a';
	folder[len] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* a* roots at "a"; *b* never matches; %/%/%/x has one candidate;
	   "* /a/x" is tried only where the tail fits: never */
	assert_int_equal(mp_policy_folder_match(policy, "u", folder, '/',
						matches, 4), 1);
	assert_int_equal(matches[0].root_len, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (ms > 200)
		fail_msg("deep folder took %.1f ms", ms);
	free(folder);
	mp_policy_unref(&policy);
}

/* Thousands of scopes: the tables grow, the arena chains big chunks,
   and every user still finds its own block and its domain's. */
static void test_many_scopes(void **state)
{
	size_t size = 4 << 20, len = 0;
	char *text = malloc(size), user[64];
	struct mp_folder_match match;
	struct mp_policy *policy;
	struct mp_retention r;
	unsigned int i;

	(void)state;
	len += (size_t)snprintf(text + len, size - len,
				"folder_quota {\n  folder Archive {\n"
				"    storage = 1G\n    scope = subtree\n  }\n}\n");
	for (i = 0; i < 2000; i++) {
		len += (size_t)snprintf(text + len, size - len,
					"pop3_retention domain D%u.Example {\n"
					"  keep_after_retrieval = %ud\n}\n",
					i, i + 1);
	}
	for (i = 0; i < 20000; i++) {
		len += (size_t)snprintf(text + len, size - len,
					"folder_quota user u%u@d%u.example {\n"
					"  folder Archive {\n    storage = %uM\n"
					"  }\n}\n", i, i % 2000, i + 1);
	}
	policy = policy_test_load(text);
	for (i = 0; i < 20000; i++) {
		snprintf(user, sizeof(user), "u%u@D%u.EXAMPLE", i, i % 2000);
		assert_true(mp_policy_retention(policy, user, &r));
		assert_int_equal(r.keep_after_retrieval,
				 (uint64_t)(i % 2000 + 1) * PT_DAY);
		assert_int_equal(mp_policy_folder_match(policy, user,
							"Archive/x", '/',
							&match, 1), 1);
		assert_int_equal(match.rule.storage, (uint64_t)(i + 1) * PT_M);
		assert_int_equal(match.rule.origin[MP_FOLDER_SCOPE].scope,
				 MP_ORIGIN_DEFAULT);
	}
	assert_int_equal(mp_policy_folder_match(policy, "nobody@d1.example",
						"Archive", '/', &match, 1), 1);
	assert_int_equal(match.rule.storage, PT_G);
	mp_policy_unref(&policy);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inheritance),
		cmocka_unit_test(test_retention_applies),
		cmocka_unit_test(test_folder_merge),
		cmocka_unit_test(test_inbox_one_name),
		cmocka_unit_test(test_when_full_merge),
		cmocka_unit_test(test_folder_precedence),
		cmocka_unit_test(test_folder_match_differential),
		cmocka_unit_test(test_folder_match_deep),
		cmocka_unit_test(test_many_scopes),
	};

	return cmocka_run_group_tests_name("policy-merge", tests, NULL, NULL);
}

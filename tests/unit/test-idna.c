/* test-idna.c: the A-label the parser suggests for a non-ASCII domain
 * (core/idna.c): RFC 3492's own samples, the usual German and Chinese
 * names, and the cases where no certain suggestion can be made. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "../../core/idna.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *domain, *alabel;
} cases[] = {
	/* RFC 3492 section 7.1: (A) Arabic, (B) Chinese, (E) Hebrew */
	{ "\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\x9f", "xn--egbpdaj6bu4bxfgehfvwxn" },
	{ "\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88\xe4\xb8\x8d\xe8\xaf\xb4\xe4\xb8\xad\xe6\x96\x87", "xn--ihqwcrb4cv8a8dqg056pqjye" },
	{ "\xd7\x9c\xd7\x9e\xd7\x94\xd7\x94\xd7\x9d\xd7\xa4\xd7\xa9\xd7\x95\xd7\x98\xd7\x9c\xd7\x90\xd7\x9e\xd7\x93\xd7\x91\xd7\xa8\xd7\x99\xd7\x9d\xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa", "xn--4dbcagdahymbxekheh6e0a7fei0b" },
	{ "b\xc3\xbc" "cher.de", "xn--bcher-kva.de" },
	{ "M\xc3\x9cNCHEN.Example", "xn--mnchen-3ya.example" },
	{ "\xe4\xb8\xad\xe5\x9b\xbd", "xn--fiqs8s" },
	{ "mail.b\xc3\xbc" "cher.example", "mail.xn--bcher-kva.example" },
	/* ASCII labels are lower-cased and kept */
	{ "Example.ORG", "example.org" },
};

static void test_suggestions(void **state)
{
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		assert_int_equal(mp_idna_suggest(cases[i].domain,
						 strlen(cases[i].domain), out,
						 sizeof(out)), 0);
		assert_string_equal(out, cases[i].alabel);
	}
}

static void test_no_suggestion(void **state)
{
	/* Greek capitals: IDNA maps them, this code cannot tell how */
	static const char greek[] = "\xce\xa0\xce\x91.gr";
	/* a combining mark: would need normalization */
	static const char combining[] = "bu\xcc\x88" "cher.de";
	char out[256], small[8];

	(void)state;
	assert_int_equal(mp_idna_suggest(greek, strlen(greek), out,
					 sizeof(out)), -1);
	assert_int_equal(mp_idna_suggest(combining, strlen(combining), out,
					 sizeof(out)), -1);
	assert_int_equal(mp_idna_suggest("a..b", 4, out, sizeof(out)), -1);
	/* too small for the answer: no truncated suggestion */
	assert_int_equal(mp_idna_suggest("b\xc3\xbc" "cher.de", 10, small,
					 sizeof(small)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suggestions),
		cmocka_unit_test(test_no_suggestion),
	};

	return cmocka_run_group_tests_name("idna", tests, NULL, NULL);
}

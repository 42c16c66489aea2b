/* test-utf8.c: strict UTF-8 validation (core/utf8.c), table-driven
 * over the well-formed boundaries and each class of malformation. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "../../core/utf8.h"

struct utf8_case {
	const char *input;
	size_t len;
	size_t invalid_at;	/* == length when valid */
};

#define VALID(s) { s, sizeof(s) - 1, sizeof(s) - 1 }
#define INVALID(s, at) { s, sizeof(s) - 1, at }

static const struct utf8_case cases[] = {
	VALID(""),
	VALID("INBOX"),
	VALID("Entw\xc3\xbcrfe"),			/* Entwürfe */
	VALID("\xe8\x8d\x89\xe7\xa8\xbf"),		/* 草稿 */
	VALID("\xf0\x9f\x93\xa7 mail"),			/* U+1F4E7 */
	/* boundaries of each length */
	VALID("\x7f"),
	VALID("\xc2\x80"),				/* U+0080 */
	VALID("\xdf\xbf"),				/* U+07FF */
	VALID("\xe0\xa0\x80"),				/* U+0800 */
	VALID("\xed\x9f\xbf"),				/* U+D7FF */
	VALID("\xee\x80\x80"),				/* U+E000 */
	VALID("\xef\xbf\xbf"),				/* U+FFFF */
	VALID("\xf0\x90\x80\x80"),			/* U+10000 */
	VALID("\xf4\x8f\xbf\xbf"),			/* U+10FFFF */
	/* NUL is U+0000: valid UTF-8, callers reject controls */
	{ "a\0b", 3, 3 },

	/* stray continuation bytes */
	INVALID("\x80", 0),
	INVALID("ab\xbf", 2),
	/* overlong forms */
	INVALID("\xc0\xaf", 0),				/* '/' in 2 bytes */
	INVALID("\xc1\xbf", 0),
	INVALID("\xe0\x80\xaf", 0),			/* '/' in 3 bytes */
	INVALID("\xe0\x9f\xbf", 0),			/* U+07FF in 3 */
	INVALID("\xf0\x80\x80\xaf", 0),			/* '/' in 4 bytes */
	INVALID("\xf0\x8f\xbf\xbf", 0),			/* U+FFFF in 4 */
	INVALID("x\xc0\x80", 1),			/* modified-UTF-8 NUL */
	/* surrogates */
	INVALID("\xed\xa0\x80", 0),			/* U+D800 */
	INVALID("\xed\xbf\xbf", 0),			/* U+DFFF */
	INVALID("\xed\xa0\xbd\xed\xb3\xa7", 0),		/* CESU-8 pair */
	/* above U+10FFFF and bytes never used */
	INVALID("\xf4\x90\x80\x80", 0),
	INVALID("\xf5\x80\x80\x80", 0),
	INVALID("\xf8\x88\x80\x80\x80", 0),
	INVALID("\xfe", 0),
	INVALID("\xff", 0),
	/* truncated sequences, at the end and before other bytes */
	INVALID("abc\xc3", 3),
	INVALID("\xe2\x82", 0),
	INVALID("\xf0\x9f\x93", 0),
	INVALID("\xc3" "a", 0),
	INVALID("\xe2\x82" "a", 0),
	INVALID("\xf0\x9f\x93" "a", 0),
	INVALID("ok\xe2\x82\xac\xe2\x82", 5),		/* "ok€" then cut */
};

static void test_utf8_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct utf8_case *c = &cases[i];
		size_t at = mp_utf8_invalid_offset(c->input, c->len);

		if (at != c->invalid_at)
			fail_msg("case %zu: invalid at %zu, expected %zu",
				 i, at, c->invalid_at);
		assert_int_equal(mp_utf8_validate(c->input, c->len),
				 c->invalid_at == c->len ? 0 : -1);
	}
}

/* len bounds the read: a sequence cut by len is invalid even if the
   bytes after it would complete it. */
static void test_utf8_len_bounds(void **state)
{
	static const char euro[] = "\xe2\x82\xac";

	(void)state;
	assert_int_equal(mp_utf8_validate(euro, 3), 0);
	assert_int_equal(mp_utf8_validate(euro, 2), -1);
	assert_int_equal(mp_utf8_validate(euro, 0), 0);
	assert_int_equal(mp_utf8_invalid_offset(euro, 1), 0);
}

/* Every single byte: ASCII valid, everything else alone invalid. */
static void test_utf8_single_bytes(void **state)
{
	unsigned int b;
	char c;

	(void)state;
	for (b = 0; b < 256; b++) {
		c = (char)b;
		assert_int_equal(mp_utf8_validate(&c, 1), b < 0x80 ? 0 : -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_table),
		cmocka_unit_test(test_utf8_len_bounds),
		cmocka_unit_test(test_utf8_single_bytes),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}

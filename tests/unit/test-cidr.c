/* test-cidr.c: addresses and networks (core/cidr.c).  Tables of inputs
 * with the canonical text they must come back as (through
 * mp_addr_format) or a fragment of their error, then match tables. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/cidr.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* error NULL: must parse to family and print as text. */
struct addr_case {
	const char *input;
	int family;
	const char *text;
	const char *error;
};

static const struct addr_case addr_cases[] = {
	{ "192.0.2.1", 4, "192.0.2.1", NULL },
	{ "0.0.0.0", 4, "0.0.0.0", NULL },
	{ "255.255.255.255", 4, "255.255.255.255", NULL },
	{ "10.0.0.100", 4, "10.0.0.100", NULL },
	{ "2001:db8::1", 6, "2001:db8::1", NULL },
	{ "::", 6, "::", NULL },
	{ "::1", 6, "::1", NULL },
	{ "2001:0DB8:0000:0000:0000:0000:0000:0001", 6, "2001:db8::1", NULL },
	/* bracketed literals and Postfix's {client_addr} */
	{ "[192.0.2.1]", 4, "192.0.2.1", NULL },
	{ "[2001:db8::1]", 6, "2001:db8::1", NULL },
	{ "IPv6:2001:db8::1", 6, "2001:db8::1", NULL },
	{ "ipv6:2001:db8::1", 6, "2001:db8::1", NULL },
	{ "[IPv6:2001:db8::1]", 6, "2001:db8::1", NULL },
	/* IPv4-mapped IPv6 is IPv4; IPv4-compatible (deprecated) is not */
	{ "::ffff:1.2.3.4", 4, "1.2.3.4", NULL },
	{ "::FFFF:102:304", 4, "1.2.3.4", NULL },
	{ "IPv6:::ffff:192.0.2.1", 4, "192.0.2.1", NULL },
	{ "[::ffff:192.0.2.1]", 4, "192.0.2.1", NULL },
	{ "::1.2.3.4", 6, "::1.2.3.4", NULL },
	{ "::fffe:1.2.3.4", 6, "::fffe:102:304", NULL },
	/* leading zeros: ambiguous in IPv4, plain hex in IPv6 */
	{ "010.0.0.1", 0, NULL, "leading zeros" },
	{ "1.2.3.04", 0, NULL, "leading zeros" },
	{ "00.0.0.0", 0, NULL, "leading zeros" },
	{ "::ffff:01.2.3.4", 0, NULL, "leading zeros" },
	{ "2001:db8::0001", 6, "2001:db8::1", NULL },
	/* invalid forms */
	{ "", 0, NULL, "empty" },
	{ "[]", 0, NULL, "empty" },
	{ "256.0.0.1", 0, NULL, "invalid IP address" },
	{ "1.2.3", 0, NULL, "invalid IP address" },
	{ "1.2.3.4.5", 0, NULL, "invalid IP address" },
	{ "127.1", 0, NULL, "invalid IP address" },
	{ "2130706433", 0, NULL, "invalid IP address" },
	{ "0x7f.0.0.1", 0, NULL, "invalid IP address" },
	{ "1.2.3.4 ", 0, NULL, "invalid IP address" },
	{ " 1.2.3.4", 0, NULL, "invalid IP address" },
	{ "-1.2.3.4", 0, NULL, "invalid IP address" },
	{ "1.2.3.4/32", 0, NULL, "invalid IP address" },
	{ ":::", 0, NULL, "invalid IP address" },
	{ "1::2::3", 0, NULL, "invalid IP address" },
	{ "2001:db8::g", 0, NULL, "invalid IP address" },
	{ "1:2:3:4:5:6:7:8:9", 0, NULL, "invalid IP address" },
	{ "fe80::1%eth0", 0, NULL, "invalid IP address" },
	{ "[2001:db8::1", 0, NULL, "invalid IP address" },
	{ "2001:db8::1]", 0, NULL, "invalid IP address" },
	{ "[[::1]]", 0, NULL, "invalid IP address" },
	{ "IPv6:192.0.2.1", 0, NULL, "IPv6: must be followed" },
	{ "IPv6:", 0, NULL, "empty" },
	{ "IPv4:192.0.2.1", 0, NULL, "invalid IP address" },
	{ "localhost", 0, NULL, "invalid IP address" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd",
	  0, NULL, "invalid IP address" },
};

static void test_addr_parse(void **state)
{
	struct mp_addr addr;
	const char *error;
	char buf[MP_ADDR_STR_SIZE];
	size_t i, j;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];

		error = NULL;
		memset(&addr, 0xa5, sizeof(addr));
		ret = mp_addr_parse(c->input, &addr, &error);
		if (c->error != NULL) {
			if (ret != -1 || error == NULL ||
			    strstr(error, c->error) == NULL)
				fail_msg("addr \"%s\": ret %d error \"%s\", "
					 "expected \"%s\"", c->input, ret,
					 error == NULL ? "(null)" : error,
					 c->error);
			continue;
		}
		if (ret != 0)
			fail_msg("addr \"%s\": %s", c->input, error);
		assert_int_equal(addr.family, c->family);
		mp_addr_format(&addr, buf, sizeof(buf));
		if (strcmp(buf, c->text) != 0)
			fail_msg("addr \"%s\" printed as \"%s\", expected "
				 "\"%s\"", c->input, buf, c->text);
		/* unused bytes are zero, so addresses compare by memcmp */
		for (j = c->family == 4 ? 4 : 16; j < sizeof(addr.bytes); j++)
			assert_int_equal(addr.bytes[j], 0);
	}
}

/* The mapped and the plain form of one IPv4 address are the same value. */
static void test_addr_mapped_equal(void **state)
{
	struct mp_addr a, b;
	const char *error;

	(void)state;
	assert_int_equal(mp_addr_parse("::ffff:192.0.2.7", &a, &error), 0);
	assert_int_equal(mp_addr_parse("192.0.2.7", &b, &error), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* error NULL: must parse and print as text/prefix. */
struct cidr_case {
	const char *input;
	const char *text;
	int prefix;
	const char *error;
};

static const struct cidr_case cidr_cases[] = {
	{ "0.0.0.0/0", "0.0.0.0", 0, NULL },
	{ "::/0", "::", 0, NULL },
	{ "192.0.2.0/24", "192.0.2.0", 24, NULL },
	{ "192.0.2.1/32", "192.0.2.1", 32, NULL },
	{ "192.0.2.1", "192.0.2.1", 32, NULL },
	{ "192.0.2.128/25", "192.0.2.128", 25, NULL },
	{ "128.0.0.0/1", "128.0.0.0", 1, NULL },
	{ "10.0.0.0/7", "10.0.0.0", 7, NULL },
	{ "2001:db8::/32", "2001:db8::", 32, NULL },
	{ "2001:db8::1/128", "2001:db8::1", 128, NULL },
	{ "2001:db8::1", "2001:db8::1", 128, NULL },
	{ "2001:db8:8000::/33", "2001:db8:8000::", 33, NULL },
	{ "[2001:db8::]/32", "2001:db8::", 32, NULL },
	{ "[192.0.2.0]/24", "192.0.2.0", 24, NULL },
	{ "IPv6:2001:db8::/32", "2001:db8::", 32, NULL },
	/* mapped networks become IPv4 networks */
	{ "::ffff:1.2.3.4", "1.2.3.4", 32, NULL },
	{ "::ffff:1.2.3.4/128", "1.2.3.4", 32, NULL },
	{ "::ffff:192.0.2.0/120", "192.0.2.0", 24, NULL },
	{ "::ffff:0.0.0.0/96", "0.0.0.0", 0, NULL },
	{ "::ffff:0:0/95", NULL, 0, "host bits set" },
	{ "::ffff:0:0/80", NULL, 0, "host bits set" },
	/* host bits under the prefix */
	{ "192.0.2.1/24", NULL, 0, "host bits set" },
	{ "192.0.2.128/24", NULL, 0, "host bits set" },
	{ "192.0.2.127/25", NULL, 0, "host bits set" },
	{ "1.0.0.0/0", NULL, 0, "host bits set" },
	{ "11.0.0.0/7", NULL, 0, "host bits set" },
	{ "2001:db8::1/64", NULL, 0, "host bits set" },
	{ "2001:db8::/16", NULL, 0, "host bits set" },
	{ "::1/0", NULL, 0, "host bits set" },
	/* prefix lengths */
	{ "192.0.2.1/33", NULL, 0, "over 32" },
	{ "0.0.0.0/1000", NULL, 0, "over 32" },
	{ "0.0.0.0/99999999999999999999", NULL, 0, "over 32" },
	{ "::/129", NULL, 0, "over 128" },
	{ "::ffff:1.2.3.4/129", NULL, 0, "over 128" },
	{ "1.2.3.4/", NULL, 0, "missing prefix length" },
	{ "::/", NULL, 0, "missing prefix length" },
	{ "10.0.0.0/08", NULL, 0, "leading zeros" },
	{ "0.0.0.0/00", NULL, 0, "leading zeros" },
	{ "10.0.0.0/-8", NULL, 0, "not a number" },
	{ "10.0.0.0/+8", NULL, 0, "not a number" },
	{ "10.0.0.0/ 8", NULL, 0, "not a number" },
	{ "10.0.0.0/8 ", NULL, 0, "not a number" },
	{ "10.0.0.0/8/8", NULL, 0, "not a number" },
	{ "10.0.0.0/0x8", NULL, 0, "not a number" },
	/* the address part */
	{ "/24", NULL, 0, "empty" },
	{ "", NULL, 0, "empty" },
	{ "010.0.0.0/8", NULL, 0, "leading zeros" },
	{ "10.0.0/8", NULL, 0, "invalid IP address" },
	{ "10.0.0.0 /8", NULL, 0, "invalid IP address" },
	{ "[2001:db8::/32]", NULL, 0, "invalid IP address" },
	{ "example.org/24", NULL, 0, "invalid IP address" },
};

static void test_cidr_parse(void **state)
{
	struct mp_cidr cidr;
	const char *error;
	char buf[MP_ADDR_STR_SIZE];
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cidr_cases); i++) {
		const struct cidr_case *c = &cidr_cases[i];

		error = NULL;
		memset(&cidr, 0xa5, sizeof(cidr));
		ret = mp_cidr_parse(c->input, &cidr, &error);
		if (c->error != NULL) {
			if (ret != -1 || error == NULL ||
			    strstr(error, c->error) == NULL)
				fail_msg("cidr \"%s\": ret %d error \"%s\", "
					 "expected \"%s\"", c->input, ret,
					 error == NULL ? "(null)" : error,
					 c->error);
			continue;
		}
		if (ret != 0)
			fail_msg("cidr \"%s\": %s", c->input, error);
		mp_addr_format(&cidr.addr, buf, sizeof(buf));
		if (strcmp(buf, c->text) != 0 || cidr.prefix != c->prefix)
			fail_msg("cidr \"%s\" gave \"%s/%u\", expected "
				 "\"%s/%d\"", c->input, buf, cidr.prefix,
				 c->text, c->prefix);
	}
}

struct match_case {
	const char *cidr;
	const char *addr;
	bool match;
};

static const struct match_case match_cases[] = {
	{ "0.0.0.0/0", "192.0.2.1", true },
	{ "0.0.0.0/0", "::1", false },
	{ "0.0.0.0/0", "::ffff:192.0.2.1", true },
	{ "0.0.0.0/0", "IPv6:::ffff:192.0.2.1", true },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "192.0.2.1", false },
	/* a mapped client is IPv4: the IPv6 rule does not see it */
	{ "::/0", "::ffff:192.0.2.1", false },
	{ "::ffff:192.0.2.0/120", "192.0.2.99", true },
	{ "192.0.2.0/24", "::ffff:192.0.2.99", true },
	{ "192.0.2.0/24", "192.0.2.0", true },
	{ "192.0.2.0/24", "192.0.2.255", true },
	{ "192.0.2.0/24", "192.0.3.0", false },
	{ "192.0.2.0/24", "192.0.1.255", false },
	{ "192.0.2.128/25", "192.0.2.127", false },
	{ "192.0.2.128/25", "192.0.2.128", true },
	{ "192.0.2.128/25", "192.0.2.255", true },
	{ "10.0.0.0/7", "11.255.255.255", true },
	{ "10.0.0.0/7", "12.0.0.0", false },
	{ "10.0.0.0/7", "9.255.255.255", false },
	{ "128.0.0.0/1", "127.255.255.255", false },
	{ "128.0.0.0/1", "128.0.0.0", true },
	{ "192.0.2.1", "192.0.2.1", true },
	{ "192.0.2.1", "192.0.2.2", false },
	{ "192.0.2.1", "[192.0.2.1]", true },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "2001:db8::/32", "IPv6:2001:db8::25", true },
	{ "2001:db8::/33", "2001:db8:7fff::", true },
	{ "2001:db8::/33", "2001:db8:8000::", false },
	{ "2001:db8::1/128", "2001:db8::1", true },
	{ "2001:db8::1", "2001:db8::2", false },
	{ "::1", "127.0.0.1", false },
	{ "127.0.0.0/8", "::1", false },
};

static void test_cidr_match(void **state)
{
	struct mp_cidr cidr;
	struct mp_addr addr;
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(match_cases); i++) {
		const struct match_case *c = &match_cases[i];

		if (mp_cidr_parse(c->cidr, &cidr, &error) < 0)
			fail_msg("cidr \"%s\": %s", c->cidr, error);
		if (mp_addr_parse(c->addr, &addr, &error) < 0)
			fail_msg("addr \"%s\": %s", c->addr, error);
		if (mp_cidr_match(&cidr, &addr) != c->match)
			fail_msg("\"%s\" in \"%s\": expected %s", c->addr,
				 c->cidr, c->match ? "match" : "no match");
	}
}

static void test_addr_format_edges(void **state)
{
	struct mp_addr addr;
	const char *error;
	char buf[MP_ADDR_STR_SIZE];
	char small[4];

	(void)state;
	/* the longest IPv6 text fits MP_ADDR_STR_SIZE */
	assert_int_equal(mp_addr_parse(
		"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &addr,
		&error), 0);
	mp_addr_format(&addr, buf, sizeof(buf));
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* short buffers truncate but stay terminated */
	assert_int_equal(mp_addr_parse("192.0.2.1", &addr, &error), 0);
	mp_addr_format(&addr, small, sizeof(small));
	assert_string_equal(small, "192");
	small[0] = 'x';
	mp_addr_format(&addr, small, 0);
	assert_int_equal(small[0], 'x');
	/* an address that was never parsed */
	memset(&addr, 0, sizeof(addr));
	mp_addr_format(&addr, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_addr_mapped_equal),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_addr_format_edges),
	};

	return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}

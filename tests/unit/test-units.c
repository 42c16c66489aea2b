/* test-units.c: the value parsers and printers of mailpolicy.conf
 * (core/units.c).  One table per value type: each row is an input and
 * either the value it must give or a fragment of the error it must
 * report, so error paths are checked as closely as successes. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/units.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define K 1024ULL
#define M (1024ULL * K)
#define G (1024ULL * M)
#define T (1024ULL * G)
#define MIN 60ULL
#define HOUR (60ULL * MIN)
#define DAY (24ULL * HOUR)
#define WEEK (7ULL * DAY)

/* error NULL: must parse to value; otherwise must fail with an error
   containing that text. */
struct u64_case {
	const char *input;
	uint64_t value;
	const char *error;
};

static void check_result(const char *what, const char *input, int ret,
			 const char *error, const char *expected_error)
{
	if (expected_error == NULL) {
		if (ret != 0)
			fail_msg("%s \"%s\": unexpected error: %s",
				 what, input, error);
		return;
	}
	if (ret != -1)
		fail_msg("%s \"%s\": parsed, expected error \"%s\"",
			 what, input, expected_error);
	if (error == NULL || strstr(error, expected_error) == NULL)
		fail_msg("%s \"%s\": error \"%s\", expected \"%s\"", what,
			 input, error == NULL ? "(null)" : error,
			 expected_error);
}

static const struct u64_case size_cases[] = {
	{ "0", 0, NULL },
	{ "1", 1, NULL },
	{ "0B", 0, NULL },
	{ "512B", 512, NULL },
	{ "512b", 512, NULL },
	{ "1K", K, NULL },
	{ "1k", K, NULL },
	{ "1KB", K, NULL },
	{ "1kb", K, NULL },
	{ "100M", 100 * M, NULL },
	{ "100MB", 100 * M, NULL },
	{ "100m", 100 * M, NULL },
	{ "2G", 2 * G, NULL },
	{ "5t", 5 * T, NULL },
	{ "007M", 7 * M, NULL },		/* decimal, never octal */
	{ "18446744073709551615", UINT64_MAX, NULL },
	{ "18446744073709551615B", UINT64_MAX, NULL },
	/* the largest multiples below 2^64 */
	{ "18014398509481983K", UINT64_MAX - (K - 1), NULL },
	{ "16777215T", 16777215 * T, NULL },
	/* overflow: while reading digits, or only after the unit */
	{ "18446744073709551616", 0, "too large" },
	{ "99999999999999999999G", 0, "too large" },
	{ "99999999999999999999999999999999", 0, "too large" },
	{ "18014398509481984K", 0, "too large" },	/* exactly 2^64 */
	{ "16777216T", 0, "too large" },		/* 16E */
	{ "17179869184G", 0, "too large" },		/* 16E */
	{ "18446744073709551615K", 0, "too large" },
	/* not numbers */
	{ "", 0, "empty" },
	{ "M", 0, "not a number" },
	{ "-1", 0, "not a number" },
	{ "+1", 0, "not a number" },
	{ "-0", 0, "not a number" },
	{ " 1M", 0, "not a number" },
	{ "\t1", 0, "not a number" },
	{ "0x10", 0, "unknown unit" },
	{ "1.5G", 0, "unknown unit" },
	/* units and trailing garbage */
	{ "1M ", 0, "unknown unit" },
	{ "1 M", 0, "unknown unit" },
	{ "1\n", 0, "unknown unit" },
	{ "1P", 0, "unknown unit" },
	{ "1E", 0, "unknown unit" },
	{ "1BB", 0, "unknown unit" },
	{ "1MBB", 0, "unknown unit" },
	{ "1MiB", 0, "unknown unit" },
	{ "1KM", 0, "unknown unit" },
	{ "10M,", 0, "unknown unit" },
};

static void test_size(void **state)
{
	const char *error;
	uint64_t value;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(size_cases); i++) {
		const struct u64_case *c = &size_cases[i];

		error = NULL;
		value = 12345;
		ret = mp_units_parse_size(c->input, &value, &error);
		check_result("size", c->input, ret, error, c->error);
		if (c->error == NULL && value != c->value)
			fail_msg("size \"%s\": %llu, expected %llu", c->input,
				 (unsigned long long)value,
				 (unsigned long long)c->value);
		if (c->error != NULL && strncmp(error, "invalid size: ", 14) != 0)
			fail_msg("size \"%s\": error \"%s\" lacks its prefix",
				 c->input, error);
	}
}

static const struct u64_case duration_cases[] = {
	{ "0", 0, NULL },
	{ "000", 0, NULL },
	{ "0s", 0, NULL },
	{ "0d", 0, NULL },
	{ "1s", 1, NULL },
	{ "90s", 90, NULL },
	{ "5m", 5 * MIN, NULL },
	{ "1h", HOUR, NULL },
	{ "30d", 30 * DAY, NULL },
	{ "7d", WEEK, NULL },
	{ "2w", 2 * WEEK, NULL },
	{ "never", MP_DURATION_NEVER, NULL },
	/* the cap, in seconds and after multiplying */
	{ "9223372036854775s", MP_DURATION_MAX_SECS, NULL },
	{ "9223372036854776s", 0, "too large" },
	{ "15250284452w", 15250284452ULL * WEEK, NULL },
	{ "15250284453w", 0, "too large" },
	{ "18446744073709551615s", 0, "too large" },	/* == NEVER */
	{ "18446744073709551616s", 0, "too large" },
	{ "99999999999999999999d", 0, "too large" },
	/* units: lower case only, exactly one */
	{ "30", 0, "missing unit" },
	{ "1", 0, "missing unit" },
	{ "1H", 0, "unknown unit" },
	{ "1D", 0, "unknown unit" },
	{ "1y", 0, "unknown unit" },
	{ "1ms", 0, "unknown unit" },
	{ "1hh", 0, "unknown unit" },
	{ "1h30m", 0, "unknown unit" },
	{ "1h ", 0, "unknown unit" },
	{ "1 h", 0, "unknown unit" },
	{ "0x", 0, "unknown unit" },
	/* not numbers */
	{ "", 0, "empty" },
	{ "h", 0, "not a number" },
	{ "-1s", 0, "not a number" },
	{ "+1s", 0, "not a number" },
	{ " 1s", 0, "not a number" },
	{ "Never", 0, "not a number" },
	{ "NEVER", 0, "not a number" },
	{ "never ", 0, "not a number" },
	{ "nevermore", 0, "not a number" },
	{ "forever", 0, "not a number" },
};

static void test_duration(void **state)
{
	const char *error;
	uint64_t value;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(duration_cases); i++) {
		const struct u64_case *c = &duration_cases[i];

		error = NULL;
		value = 12345;
		ret = mp_units_parse_duration(c->input, &value, &error);
		check_result("duration", c->input, ret, error, c->error);
		if (c->error == NULL && value != c->value)
			fail_msg("duration \"%s\": %llu, expected %llu",
				 c->input, (unsigned long long)value,
				 (unsigned long long)c->value);
	}
}

struct rate_case {
	const char *input;
	uint64_t count;
	uint64_t window;
	const char *error;
};

static const struct rate_case rate_cases[] = {
	{ "200/1h", 200, HOUR, NULL },
	{ "1/1s", 1, 1, NULL },
	{ "1000/1d", 1000, DAY, NULL },
	{ "5/2w", 5, 2 * WEEK, NULL },
	/* the Redis store refuses limits and windows (ms) from 2^52 on */
	{ "4503599627370495/1s", 4503599627370495ULL, 1, NULL },
	{ "4503599627370496/1s", 0, 0, "count above 4503599627370495" },
	{ "9007199254740992/1s", 0, 0, "count above 4503599627370495" },
	{ "18446744073709551615/1s", 0, 0, "count above 4503599627370495" },
	{ "18446744073709551616/1s", 0, 0, "count too large" },
	{ "1/4503599627370s", 1, 4503599627370ULL, NULL },
	{ "1/4503599627371s", 0, 0, "duration above 4503599627370s" },
	{ "1/7446427w", 1, 7446427ULL * 7 * 86400, NULL },
	{ "1/7446428w", 0, 0, "duration above 4503599627370s" },
	{ "1/14892857w", 0, 0, "duration above" },
	{ "unlimited", 0, 0, NULL },
	{ "Unlimited", 0, 0, "COUNT/DURATION" },
	{ "unlimited/1h", 0, 0, "count is not a number" },
	{ "0/1h", 0, 0, "at least 1" },
	{ "00/1h", 0, 0, "at least 1" },
	{ "5/0s", 0, 0, "longer than 0" },
	{ "5/0", 0, 0, "longer than 0" },
	{ "5/never", 0, 0, "never" },
	{ "5/", 0, 0, "missing duration" },
	{ "/1h", 0, 0, "missing count" },
	{ "/", 0, 0, "missing count" },
	{ "5/1x", 0, 0, "unknown duration unit" },
	{ "5/1H", 0, 0, "unknown duration unit" },
	{ "5/1", 0, 0, "missing duration unit" },
	{ "5/h", 0, 0, "duration is not a number" },
	{ "5/-1h", 0, 0, "duration is not a number" },
	{ "5/1h/2", 0, 0, "unknown duration unit" },
	{ "5/99999999999999999999w", 0, 0, "duration too large" },
	{ "5", 0, 0, "COUNT/DURATION" },
	{ "1h", 0, 0, "COUNT/DURATION" },
	{ "", 0, 0, "empty" },
	{ "-5/1h", 0, 0, "count is not a number" },
	{ "+5/1h", 0, 0, "count is not a number" },
	{ " 5/1h", 0, 0, "count is not a number" },
	{ "5 /1h", 0, 0, "count is not a number" },
	{ "5/ 1h", 0, 0, "duration is not a number" },
	{ "5k/1h", 0, 0, "count is not a number" },
	{ "5/1h ", 0, 0, "unknown duration unit" },
};

static void test_rate(void **state)
{
	struct mp_rate_spec rate;
	const char *error;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(rate_cases); i++) {
		const struct rate_case *c = &rate_cases[i];

		error = NULL;
		memset(&rate, 0xa5, sizeof(rate));
		ret = mp_units_parse_rate(c->input, &rate, &error);
		check_result("rate", c->input, ret, error, c->error);
		if (c->error == NULL &&
		    (rate.count != c->count || rate.window_secs != c->window))
			fail_msg("rate \"%s\": %llu/%llu", c->input,
				 (unsigned long long)rate.count,
				 (unsigned long long)rate.window_secs);
		if (c->error != NULL && strncmp(error, "invalid rate: ", 14) != 0)
			fail_msg("rate \"%s\": error \"%s\" lacks its prefix",
				 c->input, error);
	}
}

struct uint_case {
	const char *input;
	uint64_t min, max;
	uint64_t value;
	const char *error;
};

static const struct uint_case uint_cases[] = {
	{ "0", 0, UINT64_MAX, 0, NULL },
	{ "50000", 0, UINT64_MAX, 50000, NULL },
	{ "0050", 0, 100, 50, NULL },
	{ "18446744073709551615", 0, UINT64_MAX, UINT64_MAX, NULL },
	{ "18446744073709551616", 0, UINT64_MAX, 0, "too large" },
	{ "99999999999999999999", 0, UINT64_MAX, 0, "too large" },
	{ "1", 1, 1, 1, NULL },
	{ "0", 1, 10, 0, "out of range" },
	{ "11", 1, 10, 0, "out of range" },
	{ "10", 1, 10, 10, NULL },
	{ "18446744073709551615", 0, UINT64_MAX - 1, 0, "out of range" },
	{ "", 0, 10, 0, "empty" },
	{ "-1", 0, 10, 0, "not a decimal number" },
	{ "+1", 0, 10, 0, "not a decimal number" },
	{ " 1", 0, 10, 0, "not a decimal number" },
	{ "1 ", 0, 10, 0, "trailing characters" },
	{ "1K", 0, UINT64_MAX, 0, "trailing characters" },
	{ "0x1", 0, 10, 0, "trailing characters" },
	{ "1e3", 0, 10000, 0, "trailing characters" },
	{ "x", 0, 10, 0, "not a decimal number" },
};

static void test_uint(void **state)
{
	const char *error;
	uint64_t value;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(uint_cases); i++) {
		const struct uint_case *c = &uint_cases[i];

		error = NULL;
		value = 12345;
		ret = mp_units_parse_uint(c->input, c->min, c->max, &value,
					  &error);
		check_result("uint", c->input, ret, error, c->error);
		if (c->error == NULL && value != c->value)
			fail_msg("uint \"%s\": %llu", c->input,
				 (unsigned long long)value);
	}
}

struct port_case {
	const char *input;
	uint16_t port;
	const char *error;
};

static const struct port_case port_cases[] = {
	{ "25", 25, NULL },
	{ "1", 1, NULL },
	{ "587", 587, NULL },
	{ "65535", 65535, NULL },
	{ "0", 0, "out of range" },
	{ "65536", 0, "out of range" },
	{ "99999999999999999999", 0, "out of range" },
	{ "-25", 0, "not a number" },
	{ "+25", 0, "not a number" },
	{ "", 0, "empty" },
	{ "smtp", 0, "not a number" },
	{ "25 ", 0, "trailing characters" },
	{ "25,587", 0, "trailing characters" },
};

static void test_port(void **state)
{
	const char *error;
	uint16_t port;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(port_cases); i++) {
		const struct port_case *c = &port_cases[i];

		error = NULL;
		port = 12345;
		ret = mp_units_parse_port(c->input, &port, &error);
		check_result("port", c->input, ret, error, c->error);
		if (c->error == NULL && port != c->port)
			fail_msg("port \"%s\": %u", c->input, port);
	}
}

struct tls_case {
	const char *input;
	enum mp_tls_version version;
	const char *error;
};

static const struct tls_case tls_cases[] = {
	{ "TLSv1", MP_TLS_1_0, NULL },
	{ "TLSv1.0", MP_TLS_1_0, NULL },
	{ "TLSv1.1", MP_TLS_1_1, NULL },
	{ "TLSv1.2", MP_TLS_1_2, NULL },
	{ "TLSv1.3", MP_TLS_1_3, NULL },
	{ "tlsv1.2", MP_TLS_1_2, NULL },
	{ "TLSV1.3", MP_TLS_1_3, NULL },
	{ "SSLv3", 0, "SSLv2 and SSLv3" },
	{ "sslv2", 0, "SSLv2 and SSLv3" },
	{ "", 0, "empty" },
	{ "TLSv1.4", 0, "invalid TLS version" },
	{ "TLSv1.2 ", 0, "invalid TLS version" },
	{ " TLSv1.2", 0, "invalid TLS version" },
	{ "TLS1.2", 0, "invalid TLS version" },
	{ "1.2", 0, "invalid TLS version" },
	{ "TLSv1.", 0, "invalid TLS version" },
	{ "TLSv12", 0, "invalid TLS version" },
	{ "any", 0, "invalid TLS version" },
};

static void test_tls_version(void **state)
{
	enum mp_tls_version version;
	const char *error;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < N_ELEMENTS(tls_cases); i++) {
		const struct tls_case *c = &tls_cases[i];

		error = NULL;
		version = MP_TLS_ANY;
		ret = mp_units_parse_tls_version(c->input, &version, &error);
		check_result("tls", c->input, ret, error, c->error);
		if (c->error == NULL && version != c->version)
			fail_msg("tls \"%s\": %d", c->input, (int)version);
	}
	assert_string_equal(mp_units_tls_version_name(MP_TLS_ANY), "any");
	assert_string_equal(mp_units_tls_version_name(MP_TLS_1_0), "TLSv1");
	assert_string_equal(mp_units_tls_version_name(MP_TLS_1_2), "TLSv1.2");
	assert_string_equal(mp_units_tls_version_name(MP_TLS_1_3), "TLSv1.3");
	assert_string_equal(mp_units_tls_version_name((enum mp_tls_version)99),
			    "?");
	/* every canonical name parses back to itself */
	for (i = MP_TLS_1_0; i <= MP_TLS_1_3; i++) {
		assert_int_equal(mp_units_parse_tls_version(
			mp_units_tls_version_name((enum mp_tls_version)i),
			&version, &error), 0);
		assert_int_equal(version, i);
	}
}

struct format_case {
	uint64_t value;
	const char *text;
};

static const struct format_case size_formats[] = {
	{ 0, "0" },
	{ 1, "1B" },
	{ 1023, "1023B" },
	{ K, "1K" },
	{ 1536 * K, "1536K" },
	{ 500 * M, "500M" },
	{ 1024 * M, "1G" },
	{ 2 * T, "2T" },
	{ 16777215 * T, "16777215T" },
	{ UINT64_MAX, "18446744073709551615B" },
	{ UINT64_MAX - (K - 1), "18014398509481983K" },
};

static const struct format_case duration_formats[] = {
	{ 0, "0" },
	{ 1, "1s" },
	{ 90, "90s" },
	{ 5 * MIN, "5m" },
	{ 90 * MIN, "90m" },
	{ HOUR, "1h" },
	{ 30 * DAY, "30d" },
	{ 14 * DAY, "2w" },
	{ MP_DURATION_NEVER, "never" },
	{ MP_DURATION_MAX_SECS, "9223372036854775s" },
};

/* Printing then parsing must give the value back. */
static void test_format(void **state)
{
	char buf[64];
	uint64_t value;
	const char *error;
	size_t i, len;

	(void)state;
	for (i = 0; i < N_ELEMENTS(size_formats); i++) {
		len = mp_units_format_size(size_formats[i].value, buf,
					   sizeof(buf));
		assert_string_equal(buf, size_formats[i].text);
		assert_int_equal(len, strlen(buf));
		assert_int_equal(mp_units_parse_size(buf, &value, &error), 0);
		assert_true(value == size_formats[i].value);
	}
	for (i = 0; i < N_ELEMENTS(duration_formats); i++) {
		len = mp_units_format_duration(duration_formats[i].value, buf,
					       sizeof(buf));
		assert_string_equal(buf, duration_formats[i].text);
		assert_int_equal(len, strlen(buf));
		assert_int_equal(mp_units_parse_duration(buf, &value, &error),
				 0);
		assert_true(value == duration_formats[i].value);
	}
}

static void test_format_rate(void **state)
{
	static const struct mp_rate_spec specs[] = {
		{ 200, HOUR }, { 1000, DAY }, { 1, 90 }, { 5, 2 * WEEK },
	};
	static const char *const texts[] = {
		"200/1h", "1000/1d", "1/90s", "5/2w",
	};
	struct mp_rate_spec unset = { 0, 0 }, back;
	const char *error;
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(specs); i++) {
		assert_int_equal(mp_units_format_rate(&specs[i], buf,
						      sizeof(buf)),
				 strlen(texts[i]));
		assert_string_equal(buf, texts[i]);
		assert_int_equal(mp_units_parse_rate(buf, &back, &error), 0);
		assert_true(back.count == specs[i].count &&
			    back.window_secs == specs[i].window_secs);
	}
	mp_units_format_rate(&unset, buf, sizeof(buf));
	assert_string_equal(buf, "unlimited");
	/* ... and reads back */
	back.count = back.window_secs = 7;
	assert_int_equal(mp_units_parse_rate(buf, &back, &error), 0);
	assert_int_equal(back.count, 0);
	assert_int_equal(back.window_secs, 0);
}

/* Truncation: always NUL-terminated, returns the full length. */
static void test_format_truncation(void **state)
{
	struct mp_rate_spec rate = { 200, HOUR };
	char buf[4];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(mp_units_format_size(500 * M, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "500");
	assert_int_equal(mp_units_format_duration(MP_DURATION_NEVER, buf,
						  sizeof(buf)), 5);
	assert_string_equal(buf, "nev");
	assert_int_equal(mp_units_format_rate(&rate, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "200");
	assert_int_equal(mp_units_format_size(1, buf, 1), 2);
	assert_string_equal(buf, "");
	/* size 0 writes nothing at all */
	buf[0] = 'x';
	assert_int_equal(mp_units_format_duration(30 * DAY, buf, 0), 3);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(mp_units_format_size(0, NULL, 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_tls_version),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_rate),
		cmocka_unit_test(test_format_truncation),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}

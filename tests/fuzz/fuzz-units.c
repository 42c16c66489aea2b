/* fuzz-units.c: libFuzzer target for the value parsers (core/units.c,
 * core/cidr.c).  The input, cut at its first NUL, goes through every
 * parser; whatever parses must print back to text that parses to the
 * same value, and a parsed network must contain its own address. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailpolicy/cidr.h"
#include "mailpolicy/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_units(const char *str)
{
	struct mp_rate_spec rate, rate2;
	enum mp_tls_version tls, tls2;
	uint64_t value, value2;
	const char *error;
	uint16_t port;
	char buf[64];

	if (mp_units_parse_size(str, &value, &error) == 0) {
		mp_units_format_size(value, buf, sizeof(buf));
		if (mp_units_parse_size(buf, &value2, &error) < 0 ||
		    value2 != value)
			abort();
	}
	if (mp_units_parse_duration(str, &value, &error) == 0) {
		if (value > MP_DURATION_MAX_SECS && value != MP_DURATION_NEVER)
			abort();
		mp_units_format_duration(value, buf, sizeof(buf));
		if (mp_units_parse_duration(buf, &value2, &error) < 0 ||
		    value2 != value)
			abort();
	}
	if (mp_units_parse_rate(str, &rate, &error) == 0) {
		/* "unlimited" is count 0 and window 0; any other rate
		   fits the Redis store: both below 2^52 (ms) */
		if (rate.count == 0 ?
		    rate.window_secs != 0 || strcmp(str, "unlimited") != 0 :
		    rate.window_secs == 0 ||
		    rate.count > MP_UNITS_RATE_MAX_COUNT ||
		    rate.window_secs > MP_UNITS_RATE_MAX_WINDOW_SECS)
			abort();
		mp_units_format_rate(&rate, buf, sizeof(buf));
		if (mp_units_parse_rate(buf, &rate2, &error) < 0 ||
		    rate2.count != rate.count ||
		    rate2.window_secs != rate.window_secs)
			abort();
	}
	if (mp_units_parse_uint(str, 10, 1000, &value, &error) == 0 &&
	    (value < 10 || value > 1000))
		abort();
	if (mp_units_parse_port(str, &port, &error) == 0 && port == 0)
		abort();
	if (mp_units_parse_tls_version(str, &tls, &error) == 0 &&
	    (mp_units_parse_tls_version(mp_units_tls_version_name(tls),
					&tls2, &error) < 0 || tls2 != tls))
		abort();
}

static void check_cidr(const char *str)
{
	struct mp_addr addr, addr2;
	struct mp_cidr cidr;
	const char *error;
	char buf[MP_ADDR_STR_SIZE];

	if (mp_addr_parse(str, &addr, &error) == 0) {
		mp_addr_format(&addr, buf, sizeof(buf));
		if (mp_addr_parse(buf, &addr2, &error) < 0 ||
		    memcmp(&addr, &addr2, sizeof(addr)) != 0)
			abort();
	}
	if (mp_cidr_parse(str, &cidr, &error) == 0) {
		if (cidr.prefix > (cidr.addr.family == 4 ? 32 : 128) ||
		    !mp_cidr_match(&cidr, &cidr.addr))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *str = malloc(size + 1);

	if (str == NULL)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	check_units(str);
	check_cidr(str);
	free(str);
	return 0;
}

/* units.c: strict parsers and printers for the value types of
 * mailpolicy.conf: sizes, durations, rates, counts, ports, TLS versions.
 *
 * Every number goes through one reader, units_read_digits(): it insists
 * on a leading ASCII digit (so no whitespace, signs, "0x" or empty
 * strings reach strtoull(), which would accept them), always uses base 10
 * (leading zeros are plain decimal, never octal), and turns ERANGE into
 * "too large".  Units are then multiplied with an explicit overflow
 * check.  Errors are classified first and worded per value type at the
 * end, so that each message names what was being parsed. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailpolicy/units.h"
#include "ascii.h"

_Static_assert(sizeof(unsigned long long) == sizeof(uint64_t),
	       "strtoull() must cover uint64_t");

enum units_error {
	UNITS_OK = 0,
	UNITS_EMPTY,
	UNITS_NOT_NUMBER,	/* does not start with a digit */
	UNITS_TOO_LARGE,
	UNITS_BAD_UNIT,		/* unknown suffix, or trailing bytes */
	UNITS_MISSING_UNIT,
	UNITS_OUT_OF_RANGE,
	UNITS_ERROR_COUNT
};

typedef const char *units_messages[UNITS_ERROR_COUNT];

static const units_messages size_messages = {
	[UNITS_EMPTY] = "invalid size: empty value",
	[UNITS_NOT_NUMBER] = "invalid size: not a number",
	[UNITS_TOO_LARGE] = "invalid size: too large",
	[UNITS_BAD_UNIT] = "invalid size: unknown unit (use B, K, M, G or T)",
};

static const units_messages duration_messages = {
	[UNITS_EMPTY] = "invalid duration: empty value",
	[UNITS_NOT_NUMBER] =
		"invalid duration: not a number (or \"never\")",
	[UNITS_TOO_LARGE] = "invalid duration: too large",
	[UNITS_BAD_UNIT] =
		"invalid duration: unknown unit (use s, m, h, d or w)",
	[UNITS_MISSING_UNIT] =
		"invalid duration: missing unit (use s, m, h, d or w)",
};

static const units_messages rate_count_messages = {
	[UNITS_EMPTY] = "invalid rate: missing count before '/'",
	[UNITS_NOT_NUMBER] = "invalid rate: count is not a number",
	[UNITS_TOO_LARGE] = "invalid rate: count too large",
	[UNITS_BAD_UNIT] = "invalid rate: count is not a number",
	[UNITS_OUT_OF_RANGE] = "invalid rate: count must be at least 1",
};

static const units_messages rate_window_messages = {
	[UNITS_EMPTY] = "invalid rate: missing duration after '/'",
	[UNITS_NOT_NUMBER] = "invalid rate: duration is not a number",
	[UNITS_TOO_LARGE] = "invalid rate: duration too large",
	[UNITS_BAD_UNIT] =
		"invalid rate: unknown duration unit (use s, m, h, d or w)",
	[UNITS_MISSING_UNIT] =
		"invalid rate: missing duration unit (use s, m, h, d or w)",
	[UNITS_OUT_OF_RANGE] = "invalid rate: duration must be longer than 0",
};

static const units_messages uint_messages = {
	[UNITS_EMPTY] = "invalid number: empty value",
	[UNITS_NOT_NUMBER] = "invalid number: not a decimal number",
	[UNITS_TOO_LARGE] = "invalid number: too large",
	[UNITS_BAD_UNIT] = "invalid number: trailing characters",
	[UNITS_OUT_OF_RANGE] = "invalid number: out of range",
};

static const units_messages port_messages = {
	[UNITS_EMPTY] = "invalid port: empty value",
	[UNITS_NOT_NUMBER] = "invalid port: not a number",
	[UNITS_TOO_LARGE] = "invalid port: out of range (1-65535)",
	[UNITS_BAD_UNIT] = "invalid port: trailing characters",
	[UNITS_OUT_OF_RANGE] = "invalid port: out of range (1-65535)",
};

static int units_fail(const units_messages messages, enum units_error error,
		      const char **error_r)
{
	*error_r = messages[error] != NULL ? messages[error] :
		"invalid value";
	return -1;
}

/* Reads the decimal number at the start of str; *end_r points after its
   digits. */
static enum units_error
units_read_digits(const char *str, uint64_t *value_r, const char **end_r)
{
	unsigned long long value;
	char *end;

	if (str[0] == '\0')
		return UNITS_EMPTY;
	/* strtoull() alone would skip spaces and take a sign. */
	if (!isdigit((unsigned char)str[0]))
		return UNITS_NOT_NUMBER;
	errno = 0;
	value = strtoull(str, &end, 10);
	if (errno == ERANGE)
		return UNITS_TOO_LARGE;
	*value_r = value;
	*end_r = end;
	return UNITS_OK;
}

static enum units_error units_multiply(uint64_t value, uint64_t unit,
				       uint64_t max, uint64_t *result_r)
{
	if (value > max / unit)
		return UNITS_TOO_LARGE;
	*result_r = value * unit;
	return UNITS_OK;
}

/* ---- sizes ---- */

static enum units_error size_parse(const char *str, uint64_t *bytes_r)
{
	static const char letters[] = "bkmgt";
	const char *end, *unit;
	enum units_error error;
	uint64_t value;
	unsigned int shift;

	if ((error = units_read_digits(str, &value, &end)) != UNITS_OK)
		return error;
	if (*end == '\0') {
		*bytes_r = value;
		return UNITS_OK;
	}
	unit = memchr(letters, mp_ascii_tolower((unsigned char)*end),
		      sizeof(letters) - 1);
	if (unit == NULL)
		return UNITS_BAD_UNIT;
	shift = 10 * (unsigned int)(unit - letters);
	end++;
	/* "100MB" == "100M", but "100BB" is not a size. */
	if (shift > 0 && (*end == 'B' || *end == 'b'))
		end++;
	if (*end != '\0')
		return UNITS_BAD_UNIT;
	return units_multiply(value, (uint64_t)1 << shift, UINT64_MAX,
			      bytes_r);
}

int mp_units_parse_size(const char *str, uint64_t *bytes_r,
			const char **error_r)
{
	enum units_error error = size_parse(str, bytes_r);

	return error == UNITS_OK ? 0 : units_fail(size_messages, error, error_r);
}

/* ---- durations ---- */

static uint64_t duration_unit(char c)
{
	switch (c) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 60 * 60;
	case 'd':
		return 24 * 60 * 60;
	case 'w':
		return 7 * 24 * 60 * 60;
	default:
		return 0;
	}
}

static enum units_error duration_parse(const char *str, uint64_t *seconds_r)
{
	const char *end;
	enum units_error error;
	uint64_t value, unit;

	if (strcmp(str, "never") == 0) {
		*seconds_r = MP_DURATION_NEVER;
		return UNITS_OK;
	}
	if ((error = units_read_digits(str, &value, &end)) != UNITS_OK)
		return error;
	if (*end == '\0') {
		/* A bare "0" needs no unit; "30" might mean anything. */
		if (value != 0)
			return UNITS_MISSING_UNIT;
		*seconds_r = 0;
		return UNITS_OK;
	}
	unit = duration_unit(end[0]);
	if (unit == 0 || end[1] != '\0')
		return UNITS_BAD_UNIT;
	return units_multiply(value, unit, MP_DURATION_MAX_SECS, seconds_r);
}

int mp_units_parse_duration(const char *str, uint64_t *seconds_r,
			    const char **error_r)
{
	enum units_error error = duration_parse(str, seconds_r);

	return error == UNITS_OK ? 0 :
		units_fail(duration_messages, error, error_r);
}

/* ---- rates ---- */

int mp_units_parse_rate(const char *str, struct mp_rate_spec *rate_r,
			const char **error_r)
{
	const char *slash, *end;
	enum units_error error;
	uint64_t count, window;

	/* What mp_units_format_rate() prints for no limit reads back. */
	if (strcmp(str, "unlimited") == 0) {
		rate_r->count = 0;
		rate_r->window_secs = 0;
		return 0;
	}
	slash = strchr(str, '/');
	if (slash == NULL) {
		*error_r = str[0] == '\0' ? "invalid rate: empty value" :
			"invalid rate: expected COUNT/DURATION, e.g. 200/1h";
		return -1;
	}
	if (slash == str)
		return units_fail(rate_count_messages, UNITS_EMPTY, error_r);
	error = units_read_digits(str, &count, &end);
	if (error == UNITS_OK && end != slash)
		error = UNITS_BAD_UNIT;
	if (error == UNITS_OK && count == 0)
		error = UNITS_OUT_OF_RANGE;
	if (error != UNITS_OK)
		return units_fail(rate_count_messages, error, error_r);
	if (count > MP_UNITS_RATE_MAX_COUNT) {
		*error_r = "invalid rate: count above 4503599627370495 = "
			"2^52 - 1 (more than the Redis store counts exactly)";
		return -1;
	}

	if (strcmp(slash + 1, "never") == 0) {
		*error_r = "invalid rate: duration cannot be never";
		return -1;
	}
	error = duration_parse(slash + 1, &window);
	if (error == UNITS_OK && window == 0)
		error = UNITS_OUT_OF_RANGE;
	if (error != UNITS_OK)
		return units_fail(rate_window_messages, error, error_r);
	if (window > MP_UNITS_RATE_MAX_WINDOW_SECS) {
		*error_r = "invalid rate: duration above 4503599627370s, "
			"under 2^52 ms (longer than the Redis store counts "
			"exactly)";
		return -1;
	}

	rate_r->count = count;
	rate_r->window_secs = window;
	return 0;
}

/* ---- plain numbers ---- */

static enum units_error uint_parse(const char *str, uint64_t min,
				   uint64_t max, uint64_t *value_r)
{
	const char *end;
	enum units_error error;
	uint64_t value;

	if ((error = units_read_digits(str, &value, &end)) != UNITS_OK)
		return error;
	if (*end != '\0')
		return UNITS_BAD_UNIT;
	if (value < min || value > max)
		return UNITS_OUT_OF_RANGE;
	*value_r = value;
	return UNITS_OK;
}

int mp_units_parse_uint(const char *str, uint64_t min, uint64_t max,
			uint64_t *value_r, const char **error_r)
{
	enum units_error error = uint_parse(str, min, max, value_r);

	return error == UNITS_OK ? 0 : units_fail(uint_messages, error, error_r);
}

int mp_units_parse_port(const char *str, uint16_t *port_r,
			const char **error_r)
{
	enum units_error error;
	uint64_t value;

	error = uint_parse(str, 1, UINT16_MAX, &value);
	if (error != UNITS_OK)
		return units_fail(port_messages, error, error_r);
	*port_r = (uint16_t)value;
	return 0;
}

/* ---- TLS versions ---- */

static const char *const tls_names[] = {
	[MP_TLS_ANY] = "any",
	[MP_TLS_1_0] = "TLSv1",
	[MP_TLS_1_1] = "TLSv1.1",
	[MP_TLS_1_2] = "TLSv1.2",
	[MP_TLS_1_3] = "TLSv1.3",
};

int mp_units_parse_tls_version(const char *str, enum mp_tls_version *version_r,
			       const char **error_r)
{
	static const struct {
		const char *name;
		enum mp_tls_version version;
	} names[] = {
		{ "TLSv1", MP_TLS_1_0 },
		{ "TLSv1.0", MP_TLS_1_0 },
		{ "TLSv1.1", MP_TLS_1_1 },
		{ "TLSv1.2", MP_TLS_1_2 },
		{ "TLSv1.3", MP_TLS_1_3 },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (mp_ascii_strcaseeq(str, names[i].name)) {
			*version_r = names[i].version;
			return 0;
		}
	}
	if (mp_ascii_strcaseeq(str, "SSLv2") ||
	    mp_ascii_strcaseeq(str, "SSLv3")) {
		*error_r = "unsupported TLS version: SSLv2 and SSLv3 are insecure "
			"(use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)";
		return -1;
	}
	*error_r = str[0] == '\0' ? "invalid TLS version: empty value" :
		"invalid TLS version (use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)";
	return -1;
}

const char *mp_units_tls_version_name(enum mp_tls_version version)
{
	if ((unsigned int)version >= sizeof(tls_names) / sizeof(tls_names[0]))
		return "?";
	return tls_names[version];
}

/* ---- printing ---- */

/* Prints value and unit with snprintf()'s truncation rules; returns the
   full length. */
static size_t units_format_number(char *buf, size_t size, uint64_t value,
				  const char *unit)
{
	int ret = snprintf(buf, size, "%" PRIu64 "%s", value, unit);

	return ret < 0 ? 0 : (size_t)ret;
}

size_t mp_units_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const letters[] = { "T", "G", "M", "K" };
	unsigned int i, shift;

	if (bytes == 0)
		return units_format_number(buf, size, 0, "");
	for (i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
		shift = 40 - 10 * i;
		if ((bytes & (((uint64_t)1 << shift) - 1)) == 0)
			return units_format_number(buf, size, bytes >> shift,
						   letters[i]);
	}
	return units_format_number(buf, size, bytes, "B");
}

size_t mp_units_format_duration(uint64_t seconds, char *buf, size_t size)
{
	static const char units[] = "wdhm";
	unsigned int i;
	uint64_t unit;

	if (seconds == MP_DURATION_NEVER)
		return (size_t)snprintf(buf, size, "never");
	if (seconds == 0)
		return units_format_number(buf, size, 0, "");
	for (i = 0; units[i] != '\0'; i++) {
		unit = duration_unit(units[i]);
		if (seconds % unit == 0) {
			char suffix[2] = { units[i], '\0' };

			return units_format_number(buf, size, seconds / unit,
						   suffix);
		}
	}
	return units_format_number(buf, size, seconds, "s");
}

size_t mp_units_format_rate(const struct mp_rate_spec *rate, char *buf,
			    size_t size)
{
	char window[32];
	int ret;

	if (rate->count == 0)
		return (size_t)snprintf(buf, size, "unlimited");
	(void)mp_units_format_duration(rate->window_secs, window,
				       sizeof(window));
	ret = snprintf(buf, size, "%" PRIu64 "/%s", rate->count, window);
	return ret < 0 ? 0 : (size_t)ret;
}

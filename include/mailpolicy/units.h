#ifndef MAILPOLICY_UNITS_H
#define MAILPOLICY_UNITS_H

/* mp_units: strict parsers for the value types of mailpolicy.conf.
 *
 * Each parser reads ONE word (the policy parser splits lists into words
 * and knows each word's column), rejects anything it does not fully
 * consume, never allocates and is thread-safe.  Returns 0 on success, or
 * -1 with *error_r set to a static string that reads well after
 * "FILE:LINE:COL: ", e.g. "invalid size: unknown unit (use B, K, M, G or T)".
 * Negative numbers never parse. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Duration value meaning "never" / unlimited time. */
#define MP_DURATION_NEVER UINT64_MAX
/* Largest finite duration in seconds (about 292 million years): in
   milliseconds it still fits an int64_t, and added to any 64-bit time_t
   of this era it cannot overflow, so callers need no checks of their own.
   Longer durations are "too large" errors. */
#define MP_DURATION_MAX_SECS ((uint64_t)INT64_MAX / 1000)

/* Size: decimal digits, optionally followed by one unit letter
   B K M G T (case-insensitive, powers of 1024, as Dovecot), optionally
   followed by "B" after K/M/G/T ("100MB" == "100M").  "0" is valid here;
   whether zero makes sense is the caller's call.  Overflow of uint64_t
   is an error. */
int mp_units_parse_size(const char *str, uint64_t *bytes_r,
			const char **error_r);

/* Duration: digits followed by exactly one of s m h d w (seconds,
   minutes, hours, days, weeks; lower case), or "0", or "never"
   (-> MP_DURATION_NEVER).  More than MP_DURATION_MAX_SECS is an error. */
int mp_units_parse_duration(const char *str, uint64_t *seconds_r,
			    const char **error_r);

/* Rate: COUNT/DURATION, e.g. "200/1h", or "unlimited" (count 0).  COUNT
   from 1 to 2^52 - 1 and DURATION above 0 and below 2^52 milliseconds:
   the Redis store keeps counts and times as Lua numbers (doubles) and
   refuses limits, costs and windows of 2^52 or more (MP_RATE_MAX_EXACT
   in rate.h), so that its sums stay exact. */
#define MP_UNITS_RATE_MAX_COUNT (((uint64_t)1 << 52) - 1)
#define MP_UNITS_RATE_MAX_WINDOW_SECS ((((uint64_t)1 << 52) - 1) / 1000)
struct mp_rate_spec {
	uint64_t count;		/* 0 = no limit (unset) */
	uint64_t window_secs;
};
int mp_units_parse_rate(const char *str, struct mp_rate_spec *rate_r,
			const char **error_r);

/* Plain decimal count in [min, max]. */
int mp_units_parse_uint(const char *str, uint64_t min, uint64_t max,
			uint64_t *value_r, const char **error_r);

/* TCP port 1-65535. */
int mp_units_parse_port(const char *str, uint16_t *port_r,
			const char **error_r);

enum mp_tls_version {
	MP_TLS_ANY = 0,		/* no minimum */
	MP_TLS_1_0,
	MP_TLS_1_1,
	MP_TLS_1_2,
	MP_TLS_1_3,
};
/* TLS protocol name as OpenSSL/Postfix print it in {tls_version}:
   TLSv1, TLSv1.0 (same as TLSv1), TLSv1.1, TLSv1.2, TLSv1.3;
   case-insensitive.  SSLv2/SSLv3 are rejected as unsupported. */
int mp_units_parse_tls_version(const char *str, enum mp_tls_version *version_r,
			       const char **error_r);
/* Canonical name ("TLSv1.2"); "any" for MP_TLS_ANY. */
const char *mp_units_tls_version_name(enum mp_tls_version version);

/* Format helpers for `mailpolicy explain`: the largest exact unit
   ("500M", "1536K", "100B", "0"), "30d", "2w", "90s", "0", "never",
   "200/1h", "unlimited" for a rate with count 0.  The output parses back
   to the same value (a count-0 rate reads back with window 0).  Always NUL-terminate, truncate to size (size 0
   writes nothing); return the length that would have been written. */
size_t mp_units_format_size(uint64_t bytes, char *buf, size_t size);
size_t mp_units_format_duration(uint64_t seconds, char *buf, size_t size);
size_t mp_units_format_rate(const struct mp_rate_spec *rate, char *buf,
			    size_t size);

#endif

#ifndef MAILPOLICY_CORE_HOST_H
#define MAILPOLICY_CORE_HOST_H

/* host: the one check of a host written in mailpolicy.conf, shared by
 * every place that parses an address (the milter's socket, the Redis
 * URL), so that they cannot accept different things.  Private to the
 * core.
 *
 * A host is a DNS name (dot-separated labels of ASCII letters, digits,
 * '-' and '_', 1-63 bytes each and not starting or ending with '-', at
 * most 253 bytes, an optional final dot), an IPv4 address in dotted
 * quad, or an IPv6 address (without brackets: the callers strip the
 * brackets their syntax puts around one).  A name made only of digits
 * and dots must be a valid IPv4 address, so a typo like 10.0.0.256 is
 * not taken for a name. */

#include <stdbool.h>
#include <stddef.h>

enum mp_host_kind {
	MP_HOST_NAME = 1 << 0,
	MP_HOST_IPV4 = 1 << 1,
	MP_HOST_IPV6 = 1 << 2,
};

/* Checks s[0..len) against the kinds in allowed (a mask of
   enum mp_host_kind).  Returns the kind it is, or -1 with a static
   *error_r ("invalid host ...: reason"). */
int mp_host_check(const char *s, size_t len, unsigned int allowed,
		  const char **error_r);

#endif

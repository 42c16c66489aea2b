#ifndef MAILPOLICY_CIDR_H
#define MAILPOLICY_CIDR_H

/* mp_cidr: IPv4/IPv6 addresses and networks, for `allowed_clients`
 * and rate keys.  No allocation, thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer size that holds any formatted address (INET6_ADDRSTRLEN). */
#define MP_ADDR_STR_SIZE 46

struct mp_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t bytes[16];	/* network order; IPv4 in bytes[0..3] */
};

struct mp_cidr {
	struct mp_addr addr;	/* host bits are zero */
	uint8_t prefix;		/* 0-32 for IPv4, 0-128 for IPv6 */
};

/* Parses "192.0.2.1", "2001:db8::1", also "[2001:db8::1]" and Postfix's
   "IPv6:2001:db8::1" (as in {client_addr}).  An IPv4-mapped IPv6 address
   (::ffff:192.0.2.1) is returned as IPv4.  Bytes past the address are
   zero, so parsed addresses compare with memcmp().  IPv4 octets with
   leading zeros ("010.0.0.1": octal or decimal?) are rejected.  Returns
   0 or -1 with a static *error_r. */
int mp_addr_parse(const char *str, struct mp_addr *addr_r,
		  const char **error_r);

/* Parses "ADDR" (a host: /32 or /128) or "ADDR/PREFIX".  Host bits set
   under the prefix are an error ("192.0.2.1/24": "host bits set"), so
   that typos do not silently widen a rule. */
int mp_cidr_parse(const char *str, struct mp_cidr *cidr_r,
		  const char **error_r);

/* True when addr lies in the network; families must match. */
bool mp_cidr_match(const struct mp_cidr *cidr, const struct mp_addr *addr);

/* addr with every bit past the first prefix ones cleared (the /prefix
   network it lies in), into *network_r; a prefix at or above the
   family's length (32, 128) leaves the address whole.  For rate keys:
   the milter counts an IPv6 client by its /64 (rate_client_ipv6_prefix)
   so that rotating addresses within one network does not escape a
   limit. */
void mp_addr_truncate(const struct mp_addr *addr, unsigned int prefix,
		      struct mp_addr *network_r);

/* Prints the address in canonical form (inet_ntop); buf of at least
   MP_ADDR_STR_SIZE (shorter buffers get a truncated, NUL-terminated
   string). */
void mp_addr_format(const struct mp_addr *addr, char *buf, size_t size);

#endif

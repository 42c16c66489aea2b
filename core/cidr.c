/* cidr.c: IPv4/IPv6 addresses and networks for `allowed_clients` and
 * rate keys.
 *
 * Addresses go through inet_pton(), which takes only the strict
 * dotted-quad and RFC 4291 text forms.  On top of that:
 *
 *  - IPv4 octets with leading zeros ("010.0.0.1") are rejected, because
 *    inet_aton() and many tools read them as octal (8.0.0.1) while others
 *    read decimal: an allow rule must not mean two different networks.
 *    The same goes for the prefix length ("/024").  IPv6 groups may have
 *    leading zeros ("2001:0db8::"): they are hexadecimal everywhere.
 *  - "[ADDR]" (SMTP address literals, Postfix's mynetworks), "IPv6:ADDR"
 *    (Postfix's {client_addr}) and "[IPv6:ADDR]" are accepted; a prefix
 *    goes after the bracket: "[2001:db8::]/32".
 *  - IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4, so one IPv4 rule
 *    covers clients of dual-stack sockets.  A network written that way
 *    ("::ffff:192.0.2.0/120") becomes the IPv4 network (192.0.2.0/24).
 *    An IPv6 network such as "::/0" therefore never matches a mapped
 *    client: write the IPv4 network for those.
 *  - Zone indexes ("fe80::1%eth0") are not accepted.
 *
 * Every unused byte of a parsed address is zero, so parsed addresses
 * compare with memcmp(). */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mailpolicy/cidr.h"
#include "ascii.h"

/* Longer than any address text form, with room for "IPv6:" and "[]". */
#define CIDR_MAX_TEXT 64

static const uint8_t v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* True when a dotted-quad part of text has a leading zero ("01"). */
static bool ipv4_has_leading_zero(const char *text)
{
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (*p == '0' && isdigit((unsigned char)p[1]) &&
		    (p == text || !isdigit((unsigned char)p[-1])))
			return true;
	}
	return false;
}

/* Parses text (NUL-terminated, brackets and "IPv6:" already removed). */
static int addr_parse_plain(const char *text, bool need_ipv6,
			    struct mp_addr *addr_r, const char **error_r)
{
	const char *dotted;

	memset(addr_r, 0, sizeof(*addr_r));
	if (text[0] == '\0') {
		*error_r = "invalid IP address: empty value";
		return -1;
	}
	if (strchr(text, ':') != NULL) {
		/* An embedded IPv4 tail is after the last colon. */
		dotted = strrchr(text, ':') + 1;
		if (strchr(dotted, '.') != NULL &&
		    ipv4_has_leading_zero(dotted))
			goto leading_zero;
		if (inet_pton(AF_INET6, text, addr_r->bytes) != 1)
			goto invalid;
		addr_r->family = 6;
		return 0;
	}
	if (need_ipv6) {
		*error_r = "invalid IP address: IPv6: must be followed by "
			"an IPv6 address";
		return -1;
	}
	if (ipv4_has_leading_zero(text))
		goto leading_zero;
	if (inet_pton(AF_INET, text, addr_r->bytes) != 1)
		goto invalid;
	addr_r->family = 4;
	return 0;

leading_zero:
	*error_r = "invalid IP address: leading zeros in IPv4 are ambiguous "
		"(octal or decimal)";
	return -1;
invalid:
	memset(addr_r, 0, sizeof(*addr_r));
	*error_r = "invalid IP address";
	return -1;
}

/* Parses str[0..len) in any accepted form, without mapping ::ffff:
   addresses to IPv4 (the caller may still need the IPv6 prefix). */
static int addr_parse_raw(const char *str, size_t len, struct mp_addr *addr_r,
			  const char **error_r)
{
	char text[CIDR_MAX_TEXT];
	bool need_ipv6 = false;

	if (len >= 2 && str[0] == '[' && str[len - 1] == ']') {
		str++;
		len -= 2;
	}
	if (len >= 5 && mp_ascii_memcaseeq(str, "IPv6:", 5)) {
		str += 5;
		len -= 5;
		need_ipv6 = true;
	}
	if (len >= sizeof(text)) {
		*error_r = "invalid IP address";
		return -1;
	}
	memcpy(text, str, len);
	text[len] = '\0';
	return addr_parse_plain(text, need_ipv6, addr_r, error_r);
}

static bool addr_is_v4_mapped(const struct mp_addr *addr)
{
	return addr->family == 6 &&
		memcmp(addr->bytes, v4_mapped_prefix,
		       sizeof(v4_mapped_prefix)) == 0;
}

static void addr_unmap_v4(struct mp_addr *addr)
{
	memmove(addr->bytes, addr->bytes + 12, 4);
	memset(addr->bytes + 4, 0, sizeof(addr->bytes) - 4);
	addr->family = 4;
}

int mp_addr_parse(const char *str, struct mp_addr *addr_r,
		  const char **error_r)
{
	if (addr_parse_raw(str, strlen(str), addr_r, error_r) < 0)
		return -1;
	if (addr_is_v4_mapped(addr_r))
		addr_unmap_v4(addr_r);
	return 0;
}

/* Strict decimal prefix length: digits only, no leading zero, <= max. */
static int prefix_parse(const char *str, unsigned int max,
			unsigned int *prefix_r, const char **error_r)
{
	unsigned int value = 0;
	size_t i;

	if (str[0] == '\0') {
		*error_r = "invalid network: missing prefix length after '/'";
		return -1;
	}
	for (i = 0; str[i] != '\0'; i++) {
		if (!isdigit((unsigned char)str[i])) {
			*error_r = "invalid network: prefix length is not "
				"a number";
			return -1;
		}
		/* Saturate: any 4-digit length is out of range anyway. */
		if (value <= 128)
			value = value * 10 + (unsigned int)(str[i] - '0');
	}
	if (str[0] == '0' && i > 1) {
		*error_r = "invalid network: leading zeros in prefix length";
		return -1;
	}
	if (value > max) {
		*error_r = max == 32 ?
			"invalid network: prefix length over 32 for IPv4" :
			"invalid network: prefix length over 128 for IPv6";
		return -1;
	}
	*prefix_r = value;
	return 0;
}

static unsigned int addr_bits(const struct mp_addr *addr)
{
	return addr->family == 4 ? 32 : 128;
}

/* True when any bit of addr after the first prefix bits is set. */
static bool addr_host_bits_set(const struct mp_addr *addr, unsigned int prefix)
{
	unsigned int i, nbytes = addr_bits(addr) / 8;

	for (i = prefix / 8; i < nbytes; i++) {
		uint8_t mask = i == prefix / 8 ?
			(uint8_t)(0xff >> (prefix % 8)) : 0xff;

		if ((addr->bytes[i] & mask) != 0)
			return true;
	}
	return false;
}

int mp_cidr_parse(const char *str, struct mp_cidr *cidr_r,
		  const char **error_r)
{
	const char *slash = strchr(str, '/');
	struct mp_addr addr;
	unsigned int prefix;
	size_t addr_len = slash != NULL ? (size_t)(slash - str) : strlen(str);

	if (addr_parse_raw(str, addr_len, &addr, error_r) < 0)
		return -1;
	if (slash == NULL) {
		prefix = addr_bits(&addr);
	} else {
		if (prefix_parse(slash + 1, addr_bits(&addr), &prefix,
				 error_r) < 0)
			return -1;
		if (addr_host_bits_set(&addr, prefix)) {
			*error_r = "invalid network: host bits set "
				"(the address is not the network's first)";
			return -1;
		}
	}
	/* Host bits are clear, so a mapped address has prefix >= 96: its
	   ffff bits lie inside the prefix. */
	if (addr_is_v4_mapped(&addr)) {
		addr_unmap_v4(&addr);
		prefix -= 96;
	}
	memset(cidr_r, 0, sizeof(*cidr_r));
	cidr_r->addr = addr;
	cidr_r->prefix = (uint8_t)prefix;
	return 0;
}

bool mp_cidr_match(const struct mp_cidr *cidr, const struct mp_addr *addr)
{
	unsigned int full = cidr->prefix / 8, rest = cidr->prefix % 8;
	uint8_t mask;

	if (cidr->addr.family != addr->family ||
	    cidr->prefix > addr_bits(addr))
		return false;
	if (memcmp(cidr->addr.bytes, addr->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff00 >> rest);
	return (cidr->addr.bytes[full] & mask) == (addr->bytes[full] & mask);
}

void mp_addr_format(const struct mp_addr *addr, char *buf, size_t size)
{
	char text[CIDR_MAX_TEXT];
	int af = addr->family == 4 ? AF_INET : AF_INET6;

	if (size == 0)
		return;
	if ((addr->family != 4 && addr->family != 6) ||
	    inet_ntop(af, addr->bytes, text, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	snprintf(buf, size, "%s", text);
}

void mp_addr_truncate(const struct mp_addr *addr, unsigned int prefix,
		      struct mp_addr *network_r)
{
	unsigned int bits = addr->family == 4 ? 32 : 128, i;

	*network_r = *addr;
	if (prefix >= bits)
		return;
	for (i = prefix / 8; i < bits / 8; i++) {
		if (i == prefix / 8 && prefix % 8 != 0)
			network_r->bytes[i] &= (uint8_t)(0xff << (8 - prefix % 8));
		else
			network_r->bytes[i] = 0;
	}
}

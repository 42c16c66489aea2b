/* host.c: the one validator of a host written in mailpolicy.conf (see
 * host.h), used by the milter socket and the Redis URL parsers. */

#include <string.h>

#include "mailpolicy/cidr.h"
#include "host.h"

#define HOST_MAX_LEN 253
#define LABEL_MAX_LEN 63

static bool label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int check_name(const char *s, size_t len, const char **error_r)
{
	size_t i, start = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;		/* a final dot: the root */
	if (len == 0) {
		*error_r = "invalid host: empty";
		return -1;
	}
	if (len > HOST_MAX_LEN) {
		*error_r = "invalid host: longer than 253 bytes";
		return -1;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!label_char((unsigned char)s[i])) {
				*error_r = (unsigned char)s[i] >= 0x80 ?
					"invalid host: non-ASCII (write the "
					"A-label, xn--...)" :
					"invalid host: use letters, digits, "
					"'-', '_' and '.'";
				return -1;
			}
			continue;
		}
		if (i == start) {
			*error_r = "invalid host: empty label";
			return -1;
		}
		if (i - start > LABEL_MAX_LEN) {
			*error_r = "invalid host: label longer than 63 bytes";
			return -1;
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			*error_r = "invalid host: label starts or ends with '-'";
			return -1;
		}
		start = i + 1;
	}
	return 0;
}

int mp_host_check(const char *s, size_t len, unsigned int allowed,
		  const char **error_r)
{
	char text[HOST_MAX_LEN + 2];
	struct mp_addr addr;
	bool digits_dots = len > 0, colon = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colon = true;
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			digits_dots = false;
	}
	if (colon) {
		if ((allowed & MP_HOST_IPV6) == 0) {
			*error_r = "invalid host: IPv6 address not allowed "
				"here";
			return -1;
		}
		if (len >= sizeof(text) || memchr(s, '[', len) != NULL ||
		    memchr(s, ']', len) != NULL) {
			*error_r = "invalid host: invalid IPv6 address";
			return -1;
		}
		memcpy(text, s, len);
		text[len] = '\0';
		if (mp_addr_parse(text, &addr, error_r) < 0 ||
		    strncmp(text, "IPv6:", 5) == 0) {
			*error_r = "invalid host: invalid IPv6 address";
			return -1;
		}
		return MP_HOST_IPV6;
	}
	if (digits_dots) {
		if ((allowed & MP_HOST_IPV4) == 0) {
			*error_r = "invalid host: IPv4 address not allowed here";
			return -1;
		}
		if (len >= sizeof(text)) {
			*error_r = "invalid host: invalid IPv4 address";
			return -1;
		}
		memcpy(text, s, len);
		text[len] = '\0';
		if (mp_addr_parse(text, &addr, error_r) < 0 ||
		    addr.family != 4) {
			*error_r = "invalid host: invalid IPv4 address";
			return -1;
		}
		return MP_HOST_IPV4;
	}
	if ((allowed & MP_HOST_NAME) == 0) {
		*error_r = "invalid host: a name is not allowed here";
		return -1;
	}
	if (check_name(s, len, error_r) < 0)
		return -1;
	return MP_HOST_NAME;
}

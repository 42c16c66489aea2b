#ifndef MAILPOLICY_CORE_ASCII_H
#define MAILPOLICY_CORE_ASCII_H

/* ascii: locale-independent ASCII case folding for the words of the
 * policy language and protocol names (INBOX, IPv6:, TLSv1.2, domains).
 * Private to the core.  Why not strcasecmp(): the core runs inside
 * hosts that may call setlocale(), and in a Turkish locale 'I' and 'i'
 * are not each other's case. */

#include <stdbool.h>
#include <stddef.h>

/* c lowered if it is an ASCII capital, unchanged otherwise. */
static inline unsigned char mp_ascii_tolower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* True when a[0..n) and b[0..n) are equal ignoring ASCII case. */
static inline bool mp_ascii_memcaseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (mp_ascii_tolower((unsigned char)a[i]) !=
		    mp_ascii_tolower((unsigned char)b[i]))
			return false;
	}
	return true;
}

/* True when the NUL-terminated a and b are equal ignoring ASCII case. */
static inline bool mp_ascii_strcaseeq(const char *a, const char *b)
{
	size_t i;

	for (i = 0; a[i] != '\0' && b[i] != '\0'; i++) {
		if (mp_ascii_tolower((unsigned char)a[i]) !=
		    mp_ascii_tolower((unsigned char)b[i]))
			return false;
	}
	return a[i] == b[i];
}

#endif

/* utf8.c: strict UTF-8 validation (see utf8.h for what is rejected).
 *
 * A table-free decoder over the RFC 3629 well-formed byte sequences
 * (its table 3-7 in Unicode terms): the lead byte decides both the
 * length and the allowed range of the second byte, which is where
 * overlongs, surrogates and values above U+10FFFF are excluded.  Later
 * continuation bytes are always 80..BF. */

#include "utf8.h"

/* Length of the well-formed sequence at s[0..left), or 0 if there is
   none there. */
static size_t utf8_sequence_len(const unsigned char *s, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2)		/* continuation, or overlong C0/C1 */
		return 0;
	if (s[0] < 0xe0) {
		len = 2;
	} else if (s[0] < 0xf0) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong below U+0800 */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates U+D800..DFFF */
	} else if (s[0] < 0xf5) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong below U+10000 */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return 0;
	}
	if (left < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

size_t mp_utf8_invalid_offset(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t pos = 0, n;

	while (pos < len) {
		n = utf8_sequence_len(p + pos, len - pos);
		if (n == 0)
			return pos;
		pos += n;
	}
	return len;
}

int mp_utf8_validate(const char *s, size_t len)
{
	return mp_utf8_invalid_offset(s, len) == len ? 0 : -1;
}

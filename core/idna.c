/* idna.c: the A-label ("xn--...") of a non-ASCII domain, to suggest in
 * the error that refuses one (see idna.h).
 *
 * Selectors compare with what Dovecot and Postfix hand over, which is
 * the A-label form of a domain; a U-label in the file (`domain
 * bücher.de`) would never match, so the parser refuses it and says what
 * to write instead.  The suggestion is Punycode (RFC 3492) of each
 * label's code points.  IDNA also maps labels (case folding,
 * normalization) before encoding; only the mappings that are certain
 * without Unicode tables are done here (ASCII and Latin-1 capitals to
 * lower case), and a label with code points where more would be needed
 * (other cased scripts, combining marks) gets no suggestion, rather
 * than a wrong one. */

#include <stdint.h>
#include <string.h>

#include "idna.h"

#define PUNY_BASE 36
#define PUNY_TMIN 1
#define PUNY_TMAX 26
#define PUNY_SKEW 38
#define PUNY_DAMP 700
#define PUNY_INITIAL_BIAS 72
#define PUNY_INITIAL_N 128
#define LABEL_MAX_CODEPOINTS 63

/* Decodes one UTF-8 sequence (already known valid) at s; returns its
   length. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp_r)
{
	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	}
	if (s[0] < 0xe0) {
		*cp_r = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] < 0xf0) {
		*cp_r = ((uint32_t)(s[0] & 0x0f) << 12) |
			((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		return 3;
	}
	*cp_r = ((uint32_t)(s[0] & 0x07) << 18) |
		((uint32_t)(s[1] & 0x3f) << 12) |
		((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
	return 4;
}

/* The code point as IDNA would see it, or 0 when this file cannot tell
   (a cased script beyond Latin-1, or a combining mark). */
static uint32_t idna_map(uint32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 32;
	if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		return cp + 32;		/* Latin-1 capitals */
	if ((cp >= 0x100 && cp <= 0x52f) ||	/* Latin ext., Greek, ... */
	    (cp >= 0x1e00 && cp <= 0x1fff) ||	/* Latin ext. add., Greek */
	    (cp >= 0x2c00 && cp <= 0x2c7f) ||	/* Glagolitic */
	    (cp >= 0xa640 && cp <= 0xa7ff) ||	/* Cyrillic/Latin ext. */
	    (cp >= 0xff21 && cp <= 0xff5a))	/* fullwidth letters */
		return 0;
	return cp;
}

static char puny_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static uint32_t puny_adapt(uint32_t delta, uint32_t points, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / PUNY_DAMP : delta / 2;
	delta += delta / points;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

/* Appends c to out[*len] if it fits. */
static bool put(char *out, size_t size, size_t *len, char c)
{
	if (*len + 1 >= size)
		return false;
	out[(*len)++] = c;
	return true;
}

/* RFC 3492 encoding of cps[0..n) (mapped), with the "xn--" prefix. */
static bool puny_encode(const uint32_t *cps, size_t n, char *out, size_t size,
			size_t *len)
{
	uint32_t code = PUNY_INITIAL_N, bias = PUNY_INITIAL_BIAS, delta = 0;
	uint32_t m, q, k, t;
	size_t i, h, basic = 0;

	if (!put(out, size, len, 'x') || !put(out, size, len, 'n') ||
	    !put(out, size, len, '-') || !put(out, size, len, '-'))
		return false;
	for (i = 0; i < n; i++) {
		if (cps[i] < 0x80) {
			if (!put(out, size, len, (char)cps[i]))
				return false;
			basic++;
		}
	}
	if (basic > 0 && !put(out, size, len, '-'))
		return false;
	for (h = basic; h < n; code++, delta++) {
		m = UINT32_MAX;
		for (i = 0; i < n; i++) {
			if (cps[i] >= code && cps[i] < m)
				m = cps[i];
		}
		/* at most 63 code points below 0x110000: no overflow */
		delta += (m - code) * (uint32_t)(h + 1);
		code = m;
		for (i = 0; i < n; i++) {
			if (cps[i] < code)
				delta++;
			if (cps[i] != code)
				continue;
			for (q = delta, k = PUNY_BASE;; k += PUNY_BASE) {
				t = k <= bias ? PUNY_TMIN :
					k >= bias + PUNY_TMAX ? PUNY_TMAX :
					k - bias;
				if (q < t)
					break;
				if (!put(out, size, len,
					 puny_digit(t + (q - t) %
						    (PUNY_BASE - t))))
					return false;
				q = (q - t) / (PUNY_BASE - t);
			}
			if (!put(out, size, len, puny_digit(q)))
				return false;
			bias = puny_adapt(delta, (uint32_t)(h + 1), h == basic);
			delta = 0;
			h++;
		}
	}
	return true;
}

int mp_idna_suggest(const char *domain, size_t len, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)domain;
	uint32_t cps[LABEL_MAX_CODEPOINTS], cp;
	size_t i = 0, n, out_len = 0, start;
	bool ascii;

	if (size == 0)
		return -1;
	while (i <= len) {
		/* one label: s[start..i) */
		start = i;
		n = 0;
		ascii = true;
		while (i < len && s[i] != '.') {
			i += utf8_decode(s + i, &cp);
			if (n == LABEL_MAX_CODEPOINTS)
				return -1;
			cp = idna_map(cp);
			if (cp == 0)
				return -1;
			ascii = ascii && cp < 0x80;
			cps[n++] = cp;
		}
		if (n == 0)
			return -1;	/* empty label */
		if (ascii) {
			for (start = 0; start < n; start++) {
				if (!put(out, size, &out_len, (char)cps[start]))
					return -1;
			}
		} else if (!puny_encode(cps, n, out, size, &out_len)) {
			return -1;
		}
		if (i < len && !put(out, size, &out_len, '.'))
			return -1;
		i++;
	}
	out[out_len] = '\0';
	return 0;
}

#ifndef MAILPOLICY_CORE_UTF8_H
#define MAILPOLICY_CORE_UTF8_H

/* utf8: strict UTF-8 validation (RFC 3629) for names in the policy file
 * and folder patterns.  Private to the core.
 *
 * Rejected: stray continuation bytes, truncated sequences, overlong
 * forms (C0, C1, E0 80..9F, F0 80..8F), UTF-16 surrogates (U+D800..DFFF,
 * ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF).
 * A NUL byte is U+0000 and therefore valid UTF-8: callers that must not
 * see NUL or other control characters check for them themselves. */

#include <stddef.h>

/* Returns 0 when s[0..len) is valid UTF-8, -1 when it is not. */
int mp_utf8_validate(const char *s, size_t len);

/* The offset of the first byte of the first invalid sequence in
   s[0..len), or len when all of it is valid (for error columns). */
size_t mp_utf8_invalid_offset(const char *s, size_t len);

#endif

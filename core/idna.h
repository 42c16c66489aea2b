#ifndef MAILPOLICY_CORE_IDNA_H
#define MAILPOLICY_CORE_IDNA_H

/* idna: the A-label to suggest for a non-ASCII domain written in the
 * policy (idna.c says how far it goes).  Private to the core. */

#include <stdbool.h>
#include <stddef.h>

/* Writes the ASCII form of domain[0..len) (valid UTF-8) to out (size
   bytes, NUL-terminated): ASCII labels lower-cased, others as
   "xn--" Punycode.  Returns 0, or -1 when no certain suggestion can be
   made (a label would need Unicode mappings this code does not have,
   an empty label, or out is too small). */
int mp_idna_suggest(const char *domain, size_t len, char *out, size_t size);

#endif

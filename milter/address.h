#ifndef MILTER_ADDRESS_H
#define MILTER_ADDRESS_H

/* address: the addresses of an RFC 5322 address list, such as the value
 * of a From header, for header_from = match_sender.
 *
 * The list is read as RFC 5322 section 3.4 (and the obsolete forms of
 * section 4.4 that mail still carries) defines it: mailboxes
 * (`alice@example.com`, `Alice <alice@example.com>`,
 * `"Smith, Alice" <alice@example.com>`), groups (`team: a@x, b@y;`,
 * `undisclosed-recipients:;`), comments anywhere blanks may stand, nested
 * (`alice@example.com (Alice (work))`), quoted strings with \ escapes,
 * folded lines, source routes (`<@relay.example:alice@example.com>`) and
 * empty list elements.  Display names, group names and comments are
 * skipped: RFC 2047 encoded words (`=?utf-8?q?...?=`) are atoms there
 * and never decoded, so an address written inside a display name or an
 * encoded word is not an address.  Bytes above 0x7f are accepted
 * (RFC 6532).  What is not an address list is an error, never a guess:
 * a display name without an address, two addresses without a comma, an
 * unclosed quote, comment or bracket, a control character. */

#include <stddef.h>

/* Longest address passed on (with its NUL); a longer one is an error. */
#define ADDRESS_MAX 320

/* Called with each address as local@domain: a quoted local part
   unquoted ("a b"@x -> a b@x), a domain literal kept with its brackets. */
typedef void address_fn(void *ctx, const char *address);

/* Calls fn for each address of value, in order.  Returns the number of
   addresses (0 for an empty list or groups without members), or -1 with
   a static *error_r when value is not an address list; fn may have been
   called for the addresses before the error. */
int address_list_parse(const char *value, address_fn *fn, void *ctx,
		       const char **error_r);

#endif

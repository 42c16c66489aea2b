#ifndef MILTER_AUDIT_H
#define MILTER_AUDIT_H

/* audit: the value of the audit header (milter `audit_header`), and its
 * optional HMAC-SHA256 signature.
 *
 * The value is a list of `name=value` pairs separated by "; ":
 *   v=1; id=QUEUEID; listener=LABEL; login=LOGIN; tls=VERSION;
 *   verdict=accept|reject|tempfail; rule=RULE; mode=enforce|report
 * and, when a key is set, "; hmac=HEX" over every byte before "; hmac=".
 * In report mode, verdict and rule are what enforce would have done.
 * Values come from macros and addresses that clients control, so every
 * byte outside printable ASCII, and ';', '=', '"', '\\', is replaced by
 * '?', and each value is cut at 128 bytes: no CR/LF, no second header,
 * no forged pair.
 *
 * Verify (docs/mailpolicy-milter.8): take the header value, split off
 * "; hmac=HEX", and compare HEX with
 *   printf '%s' "$VALUE" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(xxd -p -c256 KEYFILE)
 * The key is the key file's bytes with one trailing newline removed. */

#include <stddef.h>

#define AUDIT_VALUE_MAX 1024
#define AUDIT_KEY_MAX 256

struct audit_fields {
	const char *queue_id;
	const char *listener;
	const char *login;
	const char *tls;
	const char *verdict;
	const char *rule;
	const char *mode;
};

/* Writes the value into buf (AUDIT_VALUE_MAX bytes), signed when key_len
   > 0.  Returns its length. */
size_t audit_value(const struct audit_fields *fields,
		   const unsigned char *key, size_t key_len, char *buf);

/* HMAC-SHA256 of data as 64 lower-case hex digits into hex[65]. */
void audit_hmac_hex(const unsigned char *key, size_t key_len,
		    const char *data, size_t len, char hex[65]);

/* Reads a key file (secret_read(): no permissions for others): its
   bytes, one trailing "\n" (or "\r\n") removed, 1..AUDIT_KEY_MAX bytes.
   Returns 0, or -1 with a message in error. */
int audit_key_read(const char *path, unsigned char key[AUDIT_KEY_MAX],
		   size_t *key_len_r, char *error, size_t error_size);

#endif

/* audit.c: the audit header's value and its HMAC (see audit.h). */

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "audit.h"
#include "secret.h"

#define AUDIT_FIELD_MAX 128

/* Appends " name=value" with value sanitised. */
static void put_pair(char *buf, size_t *len, const char *name,
		     const char *value)
{
	size_t n = 0;

	if (*len > 0) {
		memcpy(buf + *len, "; ", 2);
		*len += 2;
	}
	for (const char *p = name; *p != '\0'; p++)
		buf[(*len)++] = *p;
	buf[(*len)++] = '=';
	if (value == NULL || value[0] == '\0')
		value = "-";
	for (const unsigned char *p = (const unsigned char *)value;
	     *p != '\0' && n < AUDIT_FIELD_MAX; p++, n++) {
		unsigned char c = *p;

		if (c < 0x21 || c > 0x7e || c == ';' || c == '=' ||
		    c == '"' || c == '\\')
			c = '?';
		buf[(*len)++] = (char)c;
	}
	buf[*len] = '\0';
}

void audit_hmac_hex(const unsigned char *key, size_t key_len,
		    const char *data, size_t len, char hex[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	static const char digits[] = "0123456789abcdef";

	if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data,
		 len, mac, &mac_len) == NULL || mac_len != 32) {
		memset(hex, '0', 64);
		hex[64] = '\0';
		return;
	}
	for (unsigned int i = 0; i < 32; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[64] = '\0';
}

size_t audit_value(const struct audit_fields *f, const unsigned char *key,
		   size_t key_len, char *buf)
{
	size_t len = 0;

	/* 8 pairs of at most ~20 + 128 bytes, and the hmac: fits in
	   AUDIT_VALUE_MAX */
	buf[0] = '\0';
	put_pair(buf, &len, "v", "1");
	put_pair(buf, &len, "id", f->queue_id);
	put_pair(buf, &len, "listener", f->listener);
	put_pair(buf, &len, "login", f->login);
	put_pair(buf, &len, "tls", f->tls);
	put_pair(buf, &len, "verdict", f->verdict);
	put_pair(buf, &len, "rule", f->rule);
	put_pair(buf, &len, "mode", f->mode);
	if (key_len > 0) {
		char hex[65];

		audit_hmac_hex(key, key_len, buf, len, hex);
		put_pair(buf, &len, "hmac", hex);
	}
	return len;
}

int audit_key_read(const char *path, unsigned char key[AUDIT_KEY_MAX],
		   size_t *key_len_r, char *error, size_t error_size)
{
	ssize_t n = secret_read(path, "hmac_key_file", key, AUDIT_KEY_MAX,
				error, error_size);

	if (n < 0)
		return -1;
	*key_len_r = (size_t)n;
	return 0;
}

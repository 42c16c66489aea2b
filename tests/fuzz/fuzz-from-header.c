/* fuzz-from-header.c: libFuzzer target for the From header reader of
 * header_from = match_sender (milter/address.c).  The input, cut at its
 * first NUL, is a header value from a client: it must never crash, hang
 * or read out of bounds, and every address it yields must look like one
 * (a non-empty local part, '@', a non-empty domain, shorter than
 * ADDRESS_MAX, no line break); the same input gives the same answer. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../milter/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	int count;
	size_t total;
};

static void check(void *ctx, const char *address)
{
	struct seen *s = ctx;
	size_t len = strlen(address);
	const char *at = strrchr(address, '@');

	if (len == 0 || len >= ADDRESS_MAX || at == NULL || at == address ||
	    at[1] == '\0' || strpbrk(address, "\r\n") != NULL)
		abort();
	s->count++;
	s->total += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = malloc(size + 1);
	struct seen a = { 0, 0 }, b = { 0, 0 };
	const char *error_a = NULL, *error_b = NULL;
	int n_a, n_b;

	if (value == NULL)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	n_a = address_list_parse(value, check, &a, &error_a);
	n_b = address_list_parse(value, check, &b, &error_b);
	if (n_a != n_b || a.count != b.count || a.total != b.total ||
	    (n_a >= 0 && n_a != a.count) || (n_a < 0 && error_a == NULL))
		abort();
	free(value);
	return 0;
}

/* print.c: the value lines of `mailpolicy explain`: key column, value
 * spelled as in the policy file, and the "# ORIGIN" comment naming the
 * block the value came from. */

#include <inttypes.h>
#include <string.h>

#include "mailpolicy/units.h"
#include "print.h"

static int written(int ret)
{
	/* Output errors are caught once, at the end, by ferror(stdout). */
	return ret < 0 ? 0 : ret;
}

static bool word_needs_quotes(const char *word)
{
	const unsigned char *p;

	if (*word == '\0')
		return true;
	for (p = (const unsigned char *)word; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f || strchr("\"#{}=\\*%", *p) != NULL)
			return true;
	}
	return false;
}

int print_word(FILE *out, const char *word)
{
	const char *p;
	int len = 2;

	if (!word_needs_quotes(word))
		return written(fputs(word, out) < 0 ? -1 : (int)strlen(word));
	putc('"', out);
	for (p = word; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			putc('\\', out);
			len++;
		}
		putc(*p, out);
		len++;
	}
	putc('"', out);
	return len;
}

void print_key(FILE *out, int indent, int key_width, const char *key)
{
	fprintf(out, "%*s%-*s = ", indent, "", key_width, key);
}

void print_widen(int *width, const char *name)
{
	int len = (int)strlen(name);

	if (len > *width)
		*width = len;
}

static void print_block(FILE *out, const char *block, const char *label)
{
	fputs(block, out);
	if (label != NULL) {
		putc(' ', out);
		print_word(out, label);
	}
}

void print_origin(FILE *out, int value_len, const struct mp_origin *origin,
		  const char *block, const char *label, const char *note)
{
	fprintf(out, "%*s # ", value_len < PRINT_VALUE_WIDTH ?
		PRINT_VALUE_WIDTH - value_len : 0, "");
	switch (origin->scope) {
	case MP_ORIGIN_BUILTIN:
	case MP_ORIGIN_OVERRIDE:
		fputs(mp_origin_scope_name(origin->scope), out);
		break;
	case MP_ORIGIN_DEFAULT:
		if (block != NULL)
			print_block(out, block, label);
		else
			fputs(mp_origin_scope_name(origin->scope), out);
		break;
	case MP_ORIGIN_DOMAIN:
	case MP_ORIGIN_USER:
		if (block != NULL) {
			print_block(out, block, label);
			break;
		}
		fprintf(out, "%s ", mp_origin_scope_name(origin->scope));
		print_word(out, origin->selector != NULL ? origin->selector : "");
		break;
	}
	if (origin->line != 0)
		fprintf(out, " (line %u)", origin->line);
	if (note != NULL)
		fprintf(out, "; %s", note);
	putc('\n', out);
}

int print_size(FILE *out, uint64_t bytes)
{
	char buf[32];

	mp_units_format_size(bytes, buf, sizeof(buf));
	return written(fprintf(out, "%s", buf));
}

int print_duration(FILE *out, uint64_t seconds)
{
	char buf[32];

	mp_units_format_duration(seconds, buf, sizeof(buf));
	return written(fprintf(out, "%s", buf));
}

int print_rate(FILE *out, const struct mp_rate_spec *rate)
{
	char buf[64];

	mp_units_format_rate(rate, buf, sizeof(buf));
	return written(fprintf(out, "%s", buf));
}

int print_uint(FILE *out, uint64_t value)
{
	return written(fprintf(out, "%" PRIu64, value));
}

int print_cidr(FILE *out, const struct mp_cidr *cidr)
{
	char buf[64];

	mp_addr_format(&cidr->addr, buf, sizeof(buf));
	return written(fprintf(out, "%s/%u", buf, (unsigned int)cidr->prefix));
}

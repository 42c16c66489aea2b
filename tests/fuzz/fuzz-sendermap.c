/* fuzz-sendermap.c: libFuzzer target for sender_map files
 * (core/policy-sender.c over policy-listfile.c).
 *
 * The input is a whole sender map, read by a fixed policy through a
 * memfd's /proc/self/fd path (a regular file, no disk).  A load either
 * fails with an error in the map's own "MAP:LINE:COL: " (LINE within
 * the input, COL within the line limit) or "MAP: " form, ending in where
 * the policy names the map, valid UTF-8 whatever bytes it quotes; or
 * succeeds, and then every line's login may use every sender the line
 * lists (an address also plus-addressed and with its domain upper-cased,
 * an @domain through any local part), the same question gets the same
 * answer, and hostile senders and logins taken from the input (each
 * word, the input's tail) are answered without a crash: a sender
 * without '@' or an empty one never passes. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mailpolicy/policy.h"
#include "fuzz-mapfile.h"

#define WORD_MAX MP_POLICY_MAX_LINE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_mapfile map = { .fd = -1 };
static char policy_text[512];

static void init(void)
{
	fuzz_mapfile_open(&map, "fuzz-sendermap");
	snprintf(policy_text, sizeof(policy_text),
		 "listener s {\n  auth = require\n  sender = map\n"
		 "  sender_map = %s\n}\n", map.path);
}

static bool allowed(const struct mp_policy *policy,
		    const struct mp_listener *l, const char *login,
		    const char *sender)
{
	const char *why = NULL;
	bool ok = mp_listener_sender_allowed(policy, l, login, sender, &why);

	/* a refusal says why; the same question, the same answer */
	if ((!ok && why == NULL) ||
	    mp_listener_sender_allowed(policy, l, login, sender, NULL) != ok)
		abort();
	if (ok && (sender == NULL || strchr(sender, '@') == NULL ||
		   login == NULL || login[0] == '\0'))
		abort();
	return ok;
}

static void upper_after(char *s, size_t from)
{
	for (size_t i = from; s[i] != '\0'; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
	}
}

/* A sender word of a line that loaded: its login may use it. */
static void check_listed(const struct mp_policy *policy,
			 const struct mp_listener *l, const char *login,
			 const char *word)
{
	char sender[WORD_MAX + 16], *at;

	at = strrchr(word, '@');
	if (at == NULL)
		abort();	/* the load refuses such a word */
	if (at == word) {
		/* @domain: any local part, the domain in any case */
		snprintf(sender, sizeof(sender), "x%s", word);
		if (!allowed(policy, l, login, sender))
			abort();
		upper_after(sender, 1);
		if (!allowed(policy, l, login, sender))
			abort();
		return;
	}
	if (!allowed(policy, l, login, word))
		abort();
	snprintf(sender, sizeof(sender), "%.*s+tag%s", (int)(at - word), word,
		 at);
	if (!allowed(policy, l, login, sender))
		abort();
	snprintf(sender, sizeof(sender), "%s", word);
	upper_after(sender, (size_t)(strrchr(sender, '@') - sender));
	if (!allowed(policy, l, login, sender))
		abort();
}

/* Splits a line into words as the map does (blanks; '#' at a word's start
   ends the line); calls back with the first word and each other. */
static void check_lines(const struct mp_policy *policy,
			const struct mp_listener *l, const uint8_t *data,
			size_t size)
{
	char login[WORD_MAX + 1], word[WORD_MAX + 1], upper[WORD_MAX + 1];
	size_t i = 0, start, n;

	/* a byte-order mark at the start is skipped, as the load does */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < size) {
		bool first = true;

		login[0] = '\0';
		while (i < size && data[i] != '\n') {
			if (data[i] == ' ' || data[i] == '\t' ||
			    data[i] == '\r') {
				i++;
				continue;
			}
			if (data[i] == '#')
				break;
			for (start = i; i < size && data[i] != '\n' &&
			     data[i] != ' ' && data[i] != '\t' &&
			     data[i] != '\r'; i++)
				;
			n = i - start;
			if (n > WORD_MAX)
				abort();	/* longer than a line */
			memcpy(word, data + start, n);
			word[n] = '\0';
			if (first) {
				memcpy(login, word, n + 1);
				first = false;
				/* a login's domain in any case */
				memcpy(upper, login, n + 1);
				if (strrchr(upper, '@') != NULL)
					upper_after(upper,
						    (size_t)(strrchr(upper, '@') -
							     upper));
				(void)allowed(policy, l, upper, login);
				continue;
			}
			check_listed(policy, l, login, word);
			check_listed(policy, l, upper, word);
			/* the word as a login, the login as a sender */
			(void)allowed(policy, l, word, login);
		}
		while (i < size && data[i] != '\n')
			i++;
		i++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mp_listener *l;
	struct mp_policy *policy;
	struct mp_error error;
	char tail[256];
	size_t n;

	if (map.fd < 0)
		init();
	fuzz_mapfile_write(&map, data, size);
	if (mp_policy_load_string(NULL, "fuzz", policy_text,
				  strlen(policy_text), &policy, &error) < 0) {
		fuzz_mapfile_check_error(&map, " (named at fuzz:4)",
					 data, size, &error);
		return 0;
	}
	l = mp_policy_listener_find(policy, "s", 0);
	if (l == NULL)
		abort();
	check_lines(policy, l, data, size);
	/* hostile bytes: the input's tail as login and as sender */
	n = size < sizeof(tail) - 1 ? size : sizeof(tail) - 1;
	memcpy(tail, data + size - n, n);
	tail[n] = '\0';
	(void)allowed(policy, l, tail, tail);
	(void)allowed(policy, l, "alice@example.com", tail);
	(void)allowed(policy, l, tail, "alice@example.com");
	if (allowed(policy, l, tail, "") || allowed(policy, l, "", tail) ||
	    allowed(policy, l, tail, "no-at-sign"))
		abort();
	mp_policy_unref(&policy);
	return 0;
}

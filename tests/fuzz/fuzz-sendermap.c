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
#include "../../core/utf8.h"

#define WORD_MAX MP_POLICY_MAX_LINE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int map_fd = -1;
static char map_path[64], policy_text[512];

static void init(void)
{
	map_fd = memfd_create("fuzz-sendermap", MFD_CLOEXEC);
	if (map_fd < 0)
		abort();
	snprintf(map_path, sizeof(map_path), "/proc/self/fd/%d", map_fd);
	snprintf(policy_text, sizeof(policy_text),
		 "listener s {\n  auth = require\n  sender = map\n"
		 "  sender_map = %s\n}\n", map_path);
}

static void write_map(const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (ftruncate(map_fd, 0) < 0 || lseek(map_fd, 0, SEEK_SET) < 0)
		abort();
	while (done < size) {
		n = write(map_fd, data + done, size - done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

static void check_error(const uint8_t *data, size_t size,
			const struct mp_error *error)
{
	unsigned int line, col, lines = 1;
	size_t i, len = strlen(map_path);

	if (mp_utf8_validate(error->text, strlen(error->text)) < 0)
		abort();
	if (strncmp(error->text, map_path, len) != 0 ||
	    strstr(error->text, " (named at fuzz:4)") == NULL)
		abort();
	if (strncmp(error->text + len, ": ", 2) == 0)
		return;		/* about the file, not a place in it */
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (sscanf(error->text + len, ":%u:%u: ", &line, &col) != 2 ||
	    line != error->line || col != error->column || line == 0 ||
	    line > lines || col == 0 || col > MP_POLICY_MAX_LINE + 2)
		abort();
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

	if (map_fd < 0)
		init();
	write_map(data, size);
	if (mp_policy_load_string(NULL, "fuzz", policy_text,
				  strlen(policy_text), &policy, &error) < 0) {
		check_error(data, size, &error);
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

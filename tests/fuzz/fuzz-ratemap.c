/* fuzz-ratemap.c: libFuzzer target for rate_map files
 * (core/policy-ratemap.c, policy-limits.c).
 *
 * The input is a whole rate map, read by a fixed policy through a
 * memfd's /proc/self/fd path (a regular file, no disk).  A load either
 * fails with an error in the map's own "MAP:LINE:COL: " (LINE within
 * the input, COL within the line limit) or "MAP: " form, ending in where
 * the policy names the map, valid UTF-8 whatever bytes it quotes; or
 * succeeds, and then the limits of logins taken from the input itself
 * (each line's first word, and hostile bytes) are consistent: a
 * login's own entry beats its domain's, which beats the listener, the
 * domain keys never come from a login entry, and windows are sane. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mailpolicy/policy.h"
#include "fuzz-mapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_mapfile map = { .fd = -1 };
static char policy_text[512];

static void init(void)
{
	fuzz_mapfile_open(&map, "fuzz-ratemap");
	snprintf(policy_text, sizeof(policy_text),
		 "listener s {\n  auth = require\n  rate_map = %s\n"
		 "  rate_login = 10/1m 100/1h\n  rate_domain = 1000/1d\n}\n",
		 map.path);
}

static void check_login(const struct mp_policy *policy,
			const struct mp_listener *l, const char *login)
{
	struct mp_limits limits, again;
	size_t windows, sum = 0, i, j;
	unsigned int k;

	windows = mp_listener_limits(policy, l, login, &limits);
	if (windows > MP_LIMIT_MAX_ITEMS)
		abort();
	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		const struct mp_limit *lim = limits.limit[k];
		const struct mp_limit_origin *o = &limits.origin[k];

		sum += lim->window_count;
		if (lim->window_count > MP_LIMIT_MAX_WINDOWS)
			abort();
		for (i = 0; i < lim->window_count; i++) {
			for (j = 0; j < lim->window_count; j++) {
				if (i != j && lim->windows[i].window_secs <=
				    lim->windows[j].window_secs &&
				    lim->windows[i].count >=
				    lim->windows[j].count)
					abort();
			}
		}
		if (o->source == MP_LIMIT_FROM_LOGIN_ENTRY ||
		    o->source == MP_LIMIT_FROM_DOMAIN_ENTRY) {
			if (o->entry == NULL || strcmp(o->file, map.path) != 0 ||
			    o->line == 0 || login == NULL)
				abort();
			if ((o->entry[0] == '@') !=
			    (o->source == MP_LIMIT_FROM_DOMAIN_ENTRY))
				abort();
			if (o->source == MP_LIMIT_FROM_LOGIN_ENTRY &&
			    mp_limit_key_subject(k) == MP_LIMIT_SUBJECT_DOMAIN)
				abort();
			/* a domain entry is the login's domain */
			if (o->source == MP_LIMIT_FROM_DOMAIN_ENTRY &&
			    (mp_login_domain(login) == NULL ||
			     strcasecmp(mp_login_domain(login),
					o->entry + 1) != 0))
				abort();
		} else if (o->entry != NULL) {
			abort();
		}
	}
	if (sum != windows)
		abort();
	/* the same question, the same answer */
	if (mp_listener_limits(policy, l, login, &again) != windows)
		abort();
	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		if (again.limit[k] != limits.limit[k] ||
		    again.origin[k].source != limits.origin[k].source ||
		    again.origin[k].line != limits.origin[k].line ||
		    again.origin[k].entry != limits.origin[k].entry)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mp_listener *l;
	struct mp_policy *policy;
	struct mp_error error;
	char login[256];
	size_t i, start, n;

	if (map.fd < 0)
		init();
	fuzz_mapfile_write(&map, data, size);
	if (mp_policy_load_string(NULL, "fuzz", policy_text,
				  strlen(policy_text), &policy, &error) < 0) {
		fuzz_mapfile_check_error(&map, " (named at fuzz:3)",
					 data, size, &error);
		return 0;
	}
	l = mp_policy_listener_find(policy, "s", 0);
	if (l == NULL)
		abort();
	check_login(policy, l, NULL);
	check_login(policy, l, "alice@example.com");
	/* each line's first word, as written and upper-cased */
	for (start = 0; start < size; start = i + 1) {
		for (i = start; i < size && data[i] != '\n'; i++)
			;
		for (n = 0; start + n < i && n < sizeof(login) - 1 &&
		     data[start + n] != ' ' && data[start + n] != '\t' &&
		     data[start + n] != '\0'; n++)
			login[n] = (char)data[start + n];
		login[n] = '\0';
		check_login(policy, l, login);
		for (n = 0; login[n] != '\0'; n++) {
			if (login[n] >= 'a' && login[n] <= 'z')
				login[n] = (char)(login[n] - 'a' + 'A');
		}
		check_login(policy, l, login);
	}
	n = size < sizeof(login) - 1 ? size : sizeof(login) - 1;
	memcpy(login, data + size - n, n);
	login[n] = '\0';
	check_login(policy, l, login);
	mp_policy_unref(&policy);
	return 0;
}

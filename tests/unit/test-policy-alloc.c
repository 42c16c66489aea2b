/* test-policy-alloc.c: a load either succeeds or fails cleanly with
 * "out of memory" when the host's allocator gives up, wherever it gives
 * up, and leaves nothing allocated behind (core/policy-*.c).
 *
 * An mp_env whose allocator fails from the Nth call on: the sample
 * file is loaded once to count the calls a load makes, then again for
 * every N below that count.  The env also counts live blocks, so a leak
 * on any error path fails the test even without ASan. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "policy-test.h"

struct failing_env {
	struct mp_env env;
	size_t calls;		/* alloc + realloc calls so far */
	size_t fail_from;	/* the first call that fails */
	long live;		/* blocks not yet freed */
};

static void *failing_alloc(void *ctx, size_t size)
{
	struct failing_env *fe = ctx;
	void *ptr;

	if (fe->calls++ >= fe->fail_from)
		return NULL;
	ptr = calloc(1, size == 0 ? 1 : size);
	if (ptr != NULL)
		fe->live++;
	return ptr;
}

static void *failing_realloc(void *ctx, void *ptr, size_t old_size,
			     size_t new_size)
{
	struct failing_env *fe = ctx;
	void *new_ptr;

	(void)old_size;
	if (fe->calls++ >= fe->fail_from)
		return NULL;
	new_ptr = realloc(ptr, new_size == 0 ? 1 : new_size);
	if (new_ptr != NULL && ptr == NULL)
		fe->live++;
	return new_ptr;
}

static void failing_free(void *ctx, void *ptr)
{
	struct failing_env *fe = ctx;

	if (ptr == NULL)
		return;
	fe->live--;
	free(ptr);
}

static void failing_env_init(struct failing_env *fe, size_t fail_from)
{
	memset(fe, 0, sizeof(*fe));
	fe->env.alloc = failing_alloc;
	fe->env.realloc = failing_realloc;
	fe->env.free = failing_free;
	fe->env.log = NULL;
	fe->env.ctx = fe;
	fe->fail_from = fail_from;
}

/* The sample plus what the sample lacks: users, a move mailbox, a
   redis store, a user whose domain has folder rules, a sender map and a
   list file (%s: MP_SRCDIR, so the included files are found). */
static const char extra_format[] =
	"pop3_retention user u1@example.org {\n"
	"  on_retrieve = move \"POP3 Retrieved\"\n"
	"}\n"
	"folder_quota user u2@example.org {\n"
	"  folder Archive {\n"
	"    messages = 0\n"
	"  }\n"
	"  folder \"Lists/%%\" {\n"
	"    storage = 10M\n"
	"  }\n"
	"}\n"
	"listener relay {\n"
	"  ports = 2525 10025\n"
	"  sender = map\n"
	"  sender_map = %s/tests/unit/data/senders.map\n"
	"  allowed_clients = 192.0.2.0/24 2001:db8::/32 "
	"file:%s/tests/unit/data/clients.list\n"
	"}\n";

typedef int load_func(const struct mp_env *env, struct mp_policy **policy_r,
		      struct mp_error *error_r, const char **name_r);

static char *text;
static size_t text_size;

static int load_string(const struct mp_env *env, struct mp_policy **policy_r,
		       struct mp_error *error_r, const char **name_r)
{
	*name_r = "t";
	return mp_policy_load_string(env, "t", text, text_size, policy_r,
				     error_r);
}

static void sweep(load_func *load)
{
	struct failing_env fe;
	struct mp_policy *policy;
	struct mp_error error;
	struct mp_retention r;
	char expected[4200];
	const char *name;
	size_t total, n;

	/* how many calls a successful load makes */
	failing_env_init(&fe, SIZE_MAX);
	if (load(&fe.env, &policy, &error, &name) < 0)
		fail_msg("%s", error.text);
	total = fe.calls;
	assert_true(total > 0);
	assert_true(mp_policy_retention(policy, "u1@example.org", &r));
	assert_string_equal(r.retrieve_mailbox, "POP3 Retrieved");
	mp_policy_unref(&policy);
	assert_int_equal(fe.live, 0);

	snprintf(expected, sizeof(expected), "%s: out of memory", name);
	for (n = 0; n < total; n++) {
		failing_env_init(&fe, n);
		policy = (void *)1;
		if (load(&fe.env, &policy, &error, &name) == 0)
			fail_msg("loaded with allocation %zu of %zu failing",
				 n, total);
		assert_null(policy);
		/* the policy file's name, or an included file's (then
		   with where the policy names it) */
		if (strncmp(error.text, expected, strlen(expected)) != 0 &&
		    (strstr(error.text, ": out of memory (named at ") == NULL ||
		     error.text[0] != '/'))
			fail_msg("allocation %zu of %zu failing: \"%s\"", n,
				 total, error.text);
		if (fe.live != 0)
			fail_msg("allocation %zu of %zu failing: %ld blocks "
				 "leaked", n, total, fe.live);
	}
	print_message("      %zu allocation failure points\n", total);
}

static void test_sweep_string(void **state)
{
	char *sample;
	size_t size;
	const char *srcdir = getenv("MP_SRCDIR");
	char extra[sizeof(extra_format) + 2 * 4096];

	(void)state;
	if (srcdir == NULL)
		srcdir = ".";
	snprintf(extra, sizeof(extra), extra_format, srcdir, srcdir);
	sample = policy_test_read_file(policy_test_sample(), &size);
	text = malloc(size + strlen(extra) + 1);
	memcpy(text, sample, size);
	memcpy(text + size, extra, strlen(extra) + 1);
	text_size = size + strlen(extra);
	free(sample);
	sweep(load_string);
	free(text);
}

static void test_sweep_file(void **state)
{
	struct failing_env fe;
	struct mp_policy *policy;
	struct mp_error error;
	size_t n;

	(void)state;
	/* the sample alone, through the file path (its read buffer) */
	failing_env_init(&fe, SIZE_MAX);
	assert_int_equal(mp_policy_load_file(&fe.env, policy_test_sample(), &policy,
					     &error), 0);
	mp_policy_unref(&policy);
	assert_int_equal(fe.live, 0);
	for (n = fe.calls; n-- > 0;) {
		failing_env_init(&fe, n);
		assert_int_equal(mp_policy_load_file(&fe.env, policy_test_sample(), &policy,
						     &error), -1);
		assert_true(strstr(error.text, ": out of memory") != NULL);
		assert_int_equal(fe.live, 0);
	}
}

/* Many scopes: hash tables grow, arena chunks chain. */
static void test_sweep_large(void **state)
{
	size_t size = 512 * 1024, len = 0;
	unsigned int i;

	(void)state;
	text = malloc(size);
	len += (size_t)snprintf(text + len, size - len,
				"folder_quota {\n  folder Trash {\n"
				"    storage = 1M\n  }\n}\n");
	for (i = 0; i < 300; i++) {
		len += (size_t)snprintf(text + len, size - len,
					"pop3_retention user u%u@d%u.example {\n"
					"  keep_after_retrieval = %ud\n}\n"
					"folder_quota domain d%u.example {\n"
					"  folder \"L%u/*\" {\n"
					"    messages = %u\n  }\n}\n",
					i, i % 40, i + 1, i, i, i + 1);
	}
	len += (size_t)snprintf(text + len, size - len,
				"pop3_retention user u1@example.org {\n"
				"  on_retrieve = move \"POP3 Retrieved\"\n}\n");
	text_size = len;
	sweep(load_string);
	free(text);
}

/* The outbound limits: windows, a rate map (entries, hash tables),
   alert_command's argv. */
static void test_sweep_limits(void **state)
{
	const char *srcdir = getenv("MP_SRCDIR");
	size_t size = 4096;

	(void)state;
	if (srcdir == NULL)
		srcdir = ".";
	text = malloc(size);
	text_size = (size_t)snprintf(text, size,
		"pop3_retention user u1@example.org {\n"
		"  on_retrieve = move \"POP3 Retrieved\"\n}\n"
		"listener submission {\n  ports = 587\n  auth = require\n"
		"  rate_login = 100/1h 1000/1d\n"
		"  rate_domain_recipients = 10/1m 100/1h 1000/1d 10000/1w\n"
		"  rate_map = %s/tests/unit/data/rates.map\n"
		"  over_limit = hold\n  header_from = match_sender\n"
		"  sender = login\n}\n"
		"listener other {\n  rate_map = %s/tests/unit/data/rates.map\n"
		"}\n"
		"milter {\n  alert_command = /usr/sbin/x a \"b c\" d\n}\n",
		srcdir, srcdir);
	assert_true(text_size < size);
	sweep(load_string);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_string),
		cmocka_unit_test(test_sweep_file),
		cmocka_unit_test(test_sweep_large),
		cmocka_unit_test(test_sweep_limits),
	};

	return cmocka_run_group_tests_name("policy-alloc", tests, NULL, NULL);
}

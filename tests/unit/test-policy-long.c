/* test-policy-long.c: long lists and many rules load, and no load
 * writes past the memory it was given (core/policy-arena.c).
 *
 * The arena once handed out a fresh chunk of its next default size
 * whatever the request, so a list longer than a chunk (600 x `::` in
 * allowed_clients, 505 x 1.1.1.1, ports 1..519) was written past the end
 * of its block: heap corruption in every process loading the file.
 * These loads go through a guard env that puts a canary after every
 * block and checks it on free, so an overflow fails here even without
 * ASan; under `make asan` ASan sees it too.  Each long list is tried
 * after 0 to 40 filler blocks, so it meets the arena in every state
 * (fresh 4 KiB chunk, half-used chunk, 1 MiB chunks). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "policy-test.h"

#define CANARY_LEN 32
#define CANARY_BYTE 0xa5

struct guard_header {
	size_t size;
	size_t pad;		/* keeps the block 16-byte aligned */
};

struct guard_env {
	struct mp_env env;
	long live;
	unsigned long overflows;
};

static void canary_set(unsigned char *block, size_t size)
{
	memset(block + size, CANARY_BYTE, CANARY_LEN);
}

static bool canary_ok(const unsigned char *block, size_t size)
{
	size_t i;

	for (i = 0; i < CANARY_LEN; i++) {
		if (block[size + i] != CANARY_BYTE)
			return false;
	}
	return true;
}

static void *guard_alloc(void *ctx, size_t size)
{
	struct guard_env *ge = ctx;
	struct guard_header *h;

	h = calloc(1, sizeof(*h) + size + CANARY_LEN);
	if (h == NULL)
		return NULL;
	h->size = size;
	canary_set((unsigned char *)(h + 1), size);
	ge->live++;
	return h + 1;
}

static void guard_check(struct guard_env *ge, struct guard_header *h)
{
	if (!canary_ok((unsigned char *)(h + 1), h->size))
		ge->overflows++;
}

static void guard_free(void *ctx, void *ptr)
{
	struct guard_env *ge = ctx;
	struct guard_header *h;

	if (ptr == NULL)
		return;
	h = (struct guard_header *)ptr - 1;
	guard_check(ge, h);
	ge->live--;
	free(h);
}

static void *guard_realloc(void *ctx, void *ptr, size_t old_size,
			   size_t new_size)
{
	struct guard_env *ge = ctx;
	struct guard_header *h;
	void *copy;

	(void)old_size;
	copy = guard_alloc(ctx, new_size);
	if (copy == NULL)
		return NULL;
	if (ptr != NULL) {
		h = (struct guard_header *)ptr - 1;
		guard_check(ge, h);
		memcpy(copy, ptr, h->size < new_size ? h->size : new_size);
		guard_free(ctx, ptr);
	}
	return copy;
}

static void guard_init(struct guard_env *ge)
{
	memset(ge, 0, sizeof(*ge));
	ge->env.alloc = guard_alloc;
	ge->env.realloc = guard_realloc;
	ge->env.free = guard_free;
	ge->env.ctx = ge;
}

/* A growing text buffer. */
struct text {
	char *buf;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list args;
	int n;

	for (;;) {
		va_start(args, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, args);
		va_end(args);
		assert_true(n >= 0);
		if (t->len + (size_t)n < t->cap)
			break;
		t->cap = t->cap * 2 + (size_t)n + 64;
		t->buf = realloc(t->buf, t->cap);
		assert_non_null(t->buf);
	}
	t->len += (size_t)n;
}

/* fillers blocks first (each allocates a scope, rules, strings), then
   one listener with key = the words; loads through a guard env and
   checks that nothing was overwritten and nothing leaked. */
static struct mp_policy *load_guarded(struct guard_env *ge, unsigned int fillers,
				      const char *key, const char *words)
{
	struct text t = { NULL, 0, 0 };
	struct mp_policy *policy = NULL;
	struct mp_error error;
	unsigned int i;

	text_add(&t, "%s", "");
	for (i = 0; i < fillers; i++)
		text_add(&t, "folder_quota domain d%u.example {\n"
			 "  folder \"Filler %u/*\" {\n    storage = %uM\n  }\n}\n",
			 i, i, i + 1);
	text_add(&t, "listener big {\n  %s = %s\n}\n", key, words);
	if (mp_policy_load_string(&ge->env, "long.conf", t.buf, t.len, &policy,
				  &error) < 0)
		fail_msg("%u fillers, %s: %s", fillers, key, error.text);
	free(t.buf);
	return policy;
}

static void unload_guarded(struct guard_env *ge, struct mp_policy **policy)
{
	mp_policy_unref(policy);
	assert_int_equal(ge->overflows, 0);
	assert_int_equal(ge->live, 0);
}

static char *repeat_words(const char *word, unsigned int count)
{
	struct text t = { NULL, 0, 0 };
	unsigned int i;

	for (i = 0; i < count; i++)
		text_add(&t, "%s%s", i > 0 ? " " : "", word);
	return t.buf;
}

static char *port_words(unsigned int first, unsigned int last)
{
	struct text t = { NULL, 0, 0 };
	unsigned int i;

	for (i = first; i <= last; i++)
		text_add(&t, "%s%u", i > first ? " " : "", i);
	return t.buf;
}

/* The lists of the report, and the longest that fit a line. */
static void test_long_lists(void **state)
{
	struct guard_env ge;
	struct mp_policy *policy;
	const struct mp_listener *l;
	char *v6 = repeat_words("::", 600);
	char *v4 = repeat_words("1.1.1.1", 505);
	char *v6_full = repeat_words("::", (MP_POLICY_MAX_LINE - 40) / 3);
	char *ports = port_words(1, 519);
	char *ports_full = port_words(10000, 10000 + (MP_POLICY_MAX_LINE - 20) / 6 - 1);
	unsigned int fillers;

	(void)state;
	for (fillers = 0; fillers <= 40; fillers++) {
		guard_init(&ge);
		policy = load_guarded(&ge, fillers, "allowed_clients", v6);
		l = mp_policy_listener_find(policy, "big", 0);
		assert_int_equal(l->allowed_client_count, 600);
		assert_int_equal(l->allowed_clients[599].addr.family, 6);
		assert_int_equal(l->allowed_clients[599].prefix, 128);
		unload_guarded(&ge, &policy);

		guard_init(&ge);
		policy = load_guarded(&ge, fillers, "allowed_clients", v4);
		l = mp_policy_listener_find(policy, "big", 0);
		assert_int_equal(l->allowed_client_count, 505);
		assert_int_equal(l->allowed_clients[504].addr.bytes[3], 1);
		assert_int_equal(l->allowed_clients[504].prefix, 32);
		unload_guarded(&ge, &policy);

		guard_init(&ge);
		policy = load_guarded(&ge, fillers, "allowed_clients", v6_full);
		l = mp_policy_listener_find(policy, "big", 0);
		assert_int_equal(l->allowed_client_count,
				 (MP_POLICY_MAX_LINE - 40) / 3);
		unload_guarded(&ge, &policy);

		guard_init(&ge);
		policy = load_guarded(&ge, fillers, "ports", ports);
		l = mp_policy_listener_find(policy, NULL, 519);
		assert_non_null(l);
		assert_string_equal(l->label, "big");
		assert_int_equal(l->port_count, 519);
		assert_ptr_equal(mp_policy_listener_find(policy, NULL, 1), l);
		assert_null(mp_policy_listener_find(policy, NULL, 520));
		unload_guarded(&ge, &policy);

		guard_init(&ge);
		policy = load_guarded(&ge, fillers, "ports", ports_full);
		l = mp_policy_listener_find(policy, NULL, 10000);
		assert_non_null(l);
		assert_int_equal(l->port_count,
				 (MP_POLICY_MAX_LINE - 20) / 6);
		unload_guarded(&ge, &policy);
	}
	free(v6);
	free(v4);
	free(v6_full);
	free(ports);
	free(ports_full);
}

/* SASL mechanism names, the most a listener takes (64) at the longest
   a name may be (20): every one a distinct allocation too. */
static void test_long_mechanisms(void **state)
{
	struct text t = { NULL, 0, 0 };
	struct guard_env ge;
	struct mp_policy *policy;
	const struct mp_listener *l;
	unsigned int i, count = 0;

	(void)state;
	text_add(&t, "%s", "");
	for (i = 0; i < 64; i++, count++)
		text_add(&t, "%sMECHANISM-NUMBER-%03u", i > 0 ? " " : "", i);
	guard_init(&ge);
	policy = load_guarded(&ge, 3, "auth_mechanisms", t.buf);
	l = mp_policy_listener_find(policy, "big", 0);
	assert_int_equal(l->auth_mechanism_count, count);
	assert_string_equal(l->auth_mechanisms[count - 1], t.buf +
			    (strrchr(t.buf, ' ') - t.buf) + 1);
	unload_guarded(&ge, &policy);
	free(t.buf);
}

/* Many rules, many listeners, many scopes: the limits load. */
static void test_many_rules(void **state)
{
	struct text t = { NULL, 0, 0 };
	struct guard_env ge;
	struct mp_policy *policy = NULL;
	struct mp_folder_rule rule;
	struct mp_error error;
	unsigned int i;

	(void)state;
	text_add(&t, "folder_quota {\n");
	for (i = 0; i < 256; i++)
		text_add(&t, "  folder \"Rule %u/%%\" {\n    storage = %uK\n"
			 "    when_full = %s\n  }\n", i, i + 1,
			 i % 2 ? "expunge_oldest" : "refuse");
	text_add(&t, "}\n");
	for (i = 0; i < 300; i++)
		text_add(&t, "listener l%u {\n  ports = %u\n}\n", i, 1000 + i);
	for (i = 0; i < 2000; i++)
		text_add(&t, "pop3_retention user u%u@example.com {\n"
			 "  keep_after_retrieval = %ud\n}\n", i, i % 30);
	guard_init(&ge);
	if (mp_policy_load_string(&ge.env, "many.conf", t.buf, t.len, &policy,
				  &error) < 0)
		fail_msg("%s", error.text);
	assert_int_equal(mp_policy_folder_rule_count(policy, "x@y.z"), 256);
	assert_true(mp_policy_folder_rule(policy, "x@y.z", 255, &rule));
	assert_string_equal(rule.pattern, "Rule 255/%");
	assert_int_equal(rule.storage, 256 * PT_K);
	assert_int_equal(rule.when_full, MP_WHEN_FULL_EXPUNGE_OLDEST);
	assert_int_equal(mp_policy_listener_count(policy), 300);
	assert_string_equal(mp_policy_listener_find(policy, NULL, 1299)->label,
			    "l299");
	unload_guarded(&ge, &policy);
	free(t.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_lists),
		cmocka_unit_test(test_long_mechanisms),
		cmocka_unit_test(test_many_rules),
	};

	return cmocka_run_group_tests_name("policy-long", tests, NULL, NULL);
}

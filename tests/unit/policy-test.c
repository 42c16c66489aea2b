/* policy-test.c: helpers of the policy tests (see policy-test.h). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy-test.h"

static char sample_path[4096];


const char *policy_test_sample(void)
{
	const char *srcdir = getenv("MP_SRCDIR");

	snprintf(sample_path, sizeof(sample_path), "%s/packaging/mailpolicy.conf",
		 srcdir != NULL ? srcdir : ".");
	return sample_path;
}

char *policy_test_read_file(const char *path, size_t *size_r)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	buf[size] = '\0';
	*size_r = (size_t)size;
	return buf;
}

struct mp_policy *policy_test_load(const char *text)
{
	struct mp_policy *policy = NULL;
	struct mp_error error;

	if (mp_policy_load_string(NULL, "t.conf", text, strlen(text), &policy,
				  &error) < 0)
		fail_msg("unexpected error: %s", error.text);
	return policy;
}


void policy_test_assert_origin(const struct mp_origin *origin,
			       const struct origin_case *expected,
			       const char *what)
{
	if (origin->scope != expected->scope || origin->line != expected->line ||
	    (origin->selector == NULL) != (expected->selector == NULL) ||
	    (origin->selector != NULL &&
	     strcmp(origin->selector, expected->selector) != 0)) {
		fail_msg("%s: origin %s %s line %u, expected %s %s line %u",
			 what, mp_origin_scope_name(origin->scope),
			 origin->selector != NULL ? origin->selector : "-",
			 origin->line, mp_origin_scope_name(expected->scope),
			 expected->selector != NULL ? expected->selector : "-",
			 expected->line);
	}
}


void policy_test_check_retention(const struct mp_policy *policy,
				 const struct retention_case *c)
{
	struct mp_retention r;
	unsigned int k;
	char what[256];

	assert_int_equal(mp_policy_retention(policy, c->user, &r), c->applies);
	if (r.keep_after_retrieval != c->keep)
		fail_msg("%s: keep %llu, expected %llu", c->user,
			 (unsigned long long)r.keep_after_retrieval,
			 (unsigned long long)c->keep);
	assert_int_equal(r.on_dele, c->dele);
	assert_int_equal(r.dele_defer_secs, c->defer);
	assert_int_equal(r.on_retrieve, c->retrieve);
	if (c->mailbox == NULL)
		assert_null(r.retrieve_mailbox);
	else
		assert_string_equal(r.retrieve_mailbox, c->mailbox);
	assert_int_equal(r.max_retained_size, c->max_size);
	for (k = 0; k < MP_RETENTION_KEY_COUNT; k++) {
		snprintf(what, sizeof(what), "%s %s", c->user,
			 mp_retention_key_name(k));
		policy_test_assert_origin(&r.origin[k], &c->origin[k], what);
	}
}


void policy_test_check_folder(const struct mp_policy *policy,
			      const struct folder_case *c)
{
	struct mp_folder_match matches[8];
	struct mp_folder_rule rule;
	size_t i, n;

	n = mp_policy_folder_match(policy, c->user, c->folder, c->separator,
				   matches,
				   sizeof(matches) / sizeof(matches[0]));
	if (n != c->count)
		fail_msg("%s %s (sep %c): %zu matches, expected %zu", c->user,
			 c->folder, c->separator, n, c->count);
	for (i = 0; i < n; i++) {
		const struct match_case *e = &c->match[i];
		const struct mp_folder_match *m = &matches[i];

		if (strcmp(m->rule.pattern, e->pattern) != 0 ||
		    m->root_len != strlen(e->root) ||
		    strncmp(c->folder, e->root, m->root_len) != 0)
			fail_msg("%s %s #%zu: pattern %s root %.*s, expected "
				 "%s root %s", c->user, c->folder, i,
				 m->rule.pattern, (int)m->root_len, c->folder,
				 e->pattern, e->root);
		assert_int_equal(m->rule.storage, e->storage);
		assert_int_equal(m->rule.messages, e->messages);
		assert_int_equal(m->rule.scope, e->scope);
		/* the index names the same rule */
		assert_true(mp_policy_folder_rule(policy, c->user,
						  m->rule_index, &rule));
		assert_string_equal(rule.pattern, m->rule.pattern);
	}
}

int policy_test_mkdtemp(char dir[64], const char *name)
{
	snprintf(dir, 64, "/tmp/%s-XXXXXX", name);
	return mkdtemp(dir) == NULL ? -1 : 0;
}

int policy_test_rmtree(const char *dir)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

const char *policy_test_put(const char *dir, const char *name,
			    const char *text)
{
	static char paths[4][256];
	static unsigned int next;
	char tmp[300];
	char *path = paths[next++ % 4];
	FILE *file;

	snprintf(path, 256, "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	file = fopen(tmp, "w");
	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
	assert_int_equal(rename(tmp, path), 0);
	return path;
}

int policy_test_dir_setup(void **state)
{
	struct policy_test_dir *d = calloc(1, sizeof(*d));

	if (d == NULL || policy_test_mkdtemp(d->dir, "mp-unit") < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

int policy_test_dir_teardown(void **state)
{
	struct policy_test_dir *d = *state;

	if (policy_test_rmtree(d->dir) < 0)
		return -1;
	free(d);
	return 0;
}

const char *policy_test_dir_put(const struct policy_test_dir *d,
				const char *name, const char *text)
{
	return policy_test_put(d->dir, name, text);
}

void policy_test_rate_item(struct mp_rate_item *item, const char *key,
			   uint64_t count, uint64_t window_secs, uint64_t cost)
{
	memset(item, 0, sizeof(*item));
	item->key = key;
	item->rate.count = count;
	item->rate.window_secs = window_secs;
	item->cost = cost;
}

struct mp_policy *policy_test_load_path(const char *path)
{
	struct mp_policy *policy;
	struct mp_error error;

	if (mp_policy_load_file(NULL, path, &policy, &error) < 0)
		fail_msg("%s", error.text);
	return policy;
}

void policy_test_load_path_fails(const char *path, const char *expected)
{
	struct mp_policy *policy = (void *)1;
	struct mp_error error;

	if (mp_policy_load_file(NULL, path, &policy, &error) == 0)
		fail_msg("%s loaded, expected: %s", path, expected);
	assert_null(policy);
	if (strcmp(error.text, expected) != 0)
		fail_msg("\n   got \"%s\"\nwanted \"%s\"", error.text, expected);
}

/* test-policy-holder.c: a process's current policy for one path
 * (core/policy-holder.c), as the plugins and the milter use it.
 *
 * Reloads when the file changes and only then; a broken file is read
 * and reported once per state (the next calls say "known" without
 * reading: counted through the env's allocations); the two failure
 * modes (keep the last good policy, or none); a forced reload; a
 * relative path after the process changed directory; and readers on
 * many threads while another swaps policies in (run under TSan by
 * `make tsan`, part of `make asan`). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "policy-test.h"

#define GOOD_A "pop3_retention {\n  on_dele = hide\n}\n"
#define GOOD_B "pop3_retention {\n  on_dele = expunge\n}\n"
#define BROKEN "pop3_retention {\n  on_dele = shred\n}\n"

/* Counts allocations, so a test can see whether a call read anything. */
struct counting_env {
	struct mp_env env;
	unsigned long allocs;
};

static void *counting_alloc(void *ctx, size_t size)
{
	struct counting_env *ce = ctx;

	__atomic_add_fetch(&ce->allocs, 1, __ATOMIC_RELAXED);
	return calloc(1, size);
}

static void *counting_realloc(void *ctx, void *ptr, size_t old_size,
			      size_t new_size)
{
	struct counting_env *ce = ctx;

	(void)old_size;
	__atomic_add_fetch(&ce->allocs, 1, __ATOMIC_RELAXED);
	return realloc(ptr, new_size);
}

static void counting_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static void counting_init(struct counting_env *ce)
{
	memset(ce, 0, sizeof(*ce));
	ce->env.alloc = counting_alloc;
	ce->env.realloc = counting_realloc;
	ce->env.free = counting_free;
	ce->env.ctx = ce;
}

struct fixture {
	char dir[64];
	char path[128];
	struct counting_env ce;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || policy_test_mkdtemp(f->dir, "test-holder") < 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/mailpolicy.conf", f->dir);
	counting_init(&f->ce);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (policy_test_rmtree(f->dir) < 0)
		return -1;
	free(f);
	return 0;
}

/* Replaces the policy file's content (policy_test_put(): by rename, so
   the change is seen whatever the file system's timestamp granularity). */
static void replace_file(const struct fixture *f, const char *text)
{
	(void)policy_test_put(f->dir, "mailpolicy.conf", text);
}

static enum mp_dele_action dele_of(const struct mp_policy *policy)
{
	struct mp_retention r;

	assert_non_null(policy);
	assert_true(mp_policy_retention(policy, "u@example.com", &r));
	return r.on_dele;
}

static const char *status_name(enum mp_holder_status status)
{
	switch (status) {
	case MP_HOLDER_CURRENT: return "current";
	case MP_HOLDER_LOADED: return "loaded";
	case MP_HOLDER_FAILED: return "failed";
	case MP_HOLDER_FAILED_KNOWN: return "failed, known";
	}
	return "?";
}

static struct mp_policy *get_expect(struct mp_policy_holder *holder,
				    enum mp_holder_status expected,
				    struct mp_error *error)
{
	struct mp_policy *policy = (struct mp_policy *)1;
	enum mp_holder_status status;

	memset(error, 0, sizeof(*error));
	status = mp_policy_holder_get(holder, &policy, error);
	if (status != expected)
		fail_msg("get: %s, expected %s (%s)", status_name(status),
			 status_name(expected), error->text);
	return policy;
}

static void test_reload_on_change(void **state)
{
	struct fixture *f = *state;
	struct mp_policy_holder *holder;
	struct mp_policy *first, *second, *p;
	struct mp_error error;

	replace_file(f, GOOD_A);
	assert_int_equal(mp_policy_holder_new(&f->ce.env, f->path,
					      MP_HOLDER_NONE_ON_ERROR, &holder,
					      &error), 0);
	assert_string_equal(mp_policy_holder_path(holder), f->path);
	/* nothing loaded before the first get */
	assert_null(mp_policy_holder_current(holder));

	first = get_expect(holder, MP_HOLDER_LOADED, &error);
	assert_int_equal(dele_of(first), MP_DELE_HIDE);
	p = get_expect(holder, MP_HOLDER_CURRENT, &error);
	assert_ptr_equal(p, first);
	mp_policy_unref(&p);

	replace_file(f, GOOD_B);
	second = get_expect(holder, MP_HOLDER_LOADED, &error);
	assert_ptr_not_equal(second, first);
	assert_int_equal(dele_of(second), MP_DELE_EXPUNGE);
	/* the reference handed out before the swap is still good */
	assert_int_equal(dele_of(first), MP_DELE_HIDE);
	mp_policy_unref(&first);

	p = mp_policy_holder_current(holder);
	assert_ptr_equal(p, second);
	mp_policy_unref(&p);
	mp_policy_unref(&second);
	mp_policy_holder_free(&holder);
	assert_null(holder);
	mp_policy_holder_free(&holder);		/* NULL: no-op */
}

/* A broken state is read once: later calls say "known" without reading,
   until the file changes. */
static void test_failure_once_per_state(void **state)
{
	struct fixture *f = *state;
	struct mp_policy_holder *holder;
	struct mp_policy *p;
	struct mp_error error;
	unsigned long allocs;
	char expected[256];
	struct stat st;
	int i;

	replace_file(f, BROKEN);
	assert_int_equal(mp_policy_holder_new(&f->ce.env, f->path,
					      MP_HOLDER_NONE_ON_ERROR, &holder,
					      &error), 0);
	p = get_expect(holder, MP_HOLDER_FAILED, &error);
	assert_null(p);
	snprintf(expected, sizeof(expected), "%s:2:13: on_dele \"shred\": "
		 "unknown value (use expunge, defer DURATION or hide)", f->path);
	assert_string_equal(error.text, expected);
	assert_int_equal(error.line, 2);

	allocs = f->ce.allocs;
	for (i = 0; i < 3; i++) {
		p = get_expect(holder, MP_HOLDER_FAILED_KNOWN, &error);
		assert_null(p);
		assert_string_equal(error.text, expected);
	}
	assert_int_equal(f->ce.allocs, allocs);		/* nothing read */

	/* a new state that is broken too: reported again, as new */
	replace_file(f, "#\n" BROKEN);
	p = get_expect(holder, MP_HOLDER_FAILED, &error);
	assert_null(p);
	assert_non_null(strstr(error.text, ":3:13: "));
	get_expect(holder, MP_HOLDER_FAILED_KNOWN, &error);

	/* a chmod changes no byte but may fix the reason: a new state
	   (whatever the umask made the mode, this one differs) */
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(chmod(f->path, (st.st_mode & 0777) ^ 0004), 0);
	get_expect(holder, MP_HOLDER_FAILED, &error);

	/* fixed */
	replace_file(f, GOOD_A);
	p = get_expect(holder, MP_HOLDER_LOADED, &error);
	assert_int_equal(dele_of(p), MP_DELE_HIDE);
	mp_policy_unref(&p);
	p = get_expect(holder, MP_HOLDER_CURRENT, &error);
	mp_policy_unref(&p);
	mp_policy_holder_free(&holder);
}

/* The milter keeps mail flowing under the last good policy; Dovecot
   goes inert rather than use a stale one. */
static void test_modes(void **state)
{
	struct fixture *f = *state;
	struct mp_policy_holder *keep, *none;
	struct mp_policy *p;
	struct mp_error error;

	replace_file(f, GOOD_A);
	assert_int_equal(mp_policy_holder_new(NULL, f->path,
					      MP_HOLDER_KEEP_LAST_GOOD, &keep,
					      &error), 0);
	assert_int_equal(mp_policy_holder_new(NULL, f->path,
					      MP_HOLDER_NONE_ON_ERROR, &none,
					      &error), 0);
	p = get_expect(keep, MP_HOLDER_LOADED, &error);
	mp_policy_unref(&p);
	p = get_expect(none, MP_HOLDER_LOADED, &error);
	mp_policy_unref(&p);

	replace_file(f, BROKEN);
	p = get_expect(keep, MP_HOLDER_FAILED, &error);
	assert_int_equal(dele_of(p), MP_DELE_HIDE);
	mp_policy_unref(&p);
	p = get_expect(keep, MP_HOLDER_FAILED_KNOWN, &error);
	assert_int_equal(dele_of(p), MP_DELE_HIDE);
	mp_policy_unref(&p);
	p = get_expect(none, MP_HOLDER_FAILED, &error);
	assert_null(p);
	assert_null(mp_policy_holder_current(none));

	/* unreadable: the file is gone */
	assert_int_equal(unlink(f->path), 0);
	p = get_expect(keep, MP_HOLDER_FAILED, &error);
	assert_non_null(strstr(error.text, "cannot open: No such file"));
	assert_int_equal(dele_of(p), MP_DELE_HIDE);
	mp_policy_unref(&p);
	p = get_expect(none, MP_HOLDER_FAILED, &error);
	assert_null(p);
	p = get_expect(none, MP_HOLDER_FAILED_KNOWN, &error);
	assert_null(p);

	replace_file(f, GOOD_B);
	p = get_expect(none, MP_HOLDER_LOADED, &error);
	assert_int_equal(dele_of(p), MP_DELE_EXPUNGE);
	mp_policy_unref(&p);
	mp_policy_holder_free(&keep);
	mp_policy_holder_free(&none);
}

/* SIGUSR1 in the milter: load now, whatever the state. */
static void test_forced_reload(void **state)
{
	struct fixture *f = *state;
	struct mp_policy_holder *holder;
	struct mp_policy *p;
	struct mp_error error;

	replace_file(f, GOOD_A);
	assert_int_equal(mp_policy_holder_new(NULL, f->path,
					      MP_HOLDER_KEEP_LAST_GOOD, &holder,
					      &error), 0);
	/* a reload before any get loads */
	assert_int_equal(mp_policy_holder_reload(holder, &error), 0);
	p = get_expect(holder, MP_HOLDER_CURRENT, &error);
	assert_int_equal(dele_of(p), MP_DELE_HIDE);
	mp_policy_unref(&p);

	replace_file(f, BROKEN);
	assert_int_equal(mp_policy_holder_reload(holder, &error), -1);
	assert_non_null(strstr(error.text, ":2:13: on_dele \"shred\""));
	/* the old policy stays, and get() knows the failure already */
	p = get_expect(holder, MP_HOLDER_FAILED_KNOWN, &error);
	assert_int_equal(dele_of(p), MP_DELE_HIDE);
	mp_policy_unref(&p);

	replace_file(f, GOOD_B);
	assert_int_equal(mp_policy_holder_reload(holder, &error), 0);
	p = mp_policy_holder_current(holder);
	assert_int_equal(dele_of(p), MP_DELE_EXPUNGE);
	mp_policy_unref(&p);
	p = get_expect(holder, MP_HOLDER_CURRENT, &error);
	mp_policy_unref(&p);
	mp_policy_holder_free(&holder);
}

/* A relative path is resolved once: the holder (and a policy loaded by a
   relative name) still finds its file after a chdir. */
static void test_relative_path(void **state)
{
	struct fixture *f = *state;
	struct mp_policy_holder *holder;
	struct mp_policy *p, *loaded;
	struct mp_error error;
	char cwd[4096], expected[300];

	replace_file(f, GOOD_A);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(mp_policy_holder_new(NULL, "mailpolicy.conf",
					      MP_HOLDER_NONE_ON_ERROR, &holder,
					      &error), 0);
	assert_int_equal(mp_policy_load_file(NULL, "mailpolicy.conf", &loaded,
					     &error), 0);
	assert_string_equal(mp_policy_name(loaded), "mailpolicy.conf");
	assert_int_equal(chdir("/"), 0);

	assert_string_equal(mp_policy_holder_path(holder), f->path);
	p = get_expect(holder, MP_HOLDER_LOADED, &error);
	mp_policy_unref(&p);
	/* in / there is no mailpolicy.conf: staleness must not look there */
	assert_false(mp_policy_is_stale(loaded));
	replace_file(f, BROKEN);
	assert_true(mp_policy_is_stale(loaded));
	p = get_expect(holder, MP_HOLDER_FAILED, &error);
	snprintf(expected, sizeof(expected), "%s:2:13: ", f->path);
	assert_int_equal(strncmp(error.text, expected, strlen(expected)), 0);
	mp_policy_unref(&loaded);
	mp_policy_holder_free(&holder);
	assert_int_equal(chdir(cwd), 0);
}

/* ---- readers while another thread swaps ---- */

struct shared {
	struct mp_policy_holder *holder;
	const char *path;
	int stop;
	unsigned long reads;
	int failures;
};

static void *reader(void *arg)
{
	struct shared *sh = arg;
	struct mp_folder_match m[2];
	struct mp_retention r;
	struct mp_policy *p;
	struct mp_error error;
	enum mp_holder_status status;
	unsigned long n = 0;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		status = mp_policy_holder_get(sh->holder, &p, &error);
		if (status == MP_HOLDER_FAILED ||
		    status == MP_HOLDER_FAILED_KNOWN || p == NULL) {
			__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
			mp_policy_unref(&p);
			continue;
		}
		/* use it after others may have swapped it out */
		if (!mp_policy_retention(p, "u@example.com", &r) ||
		    (r.on_dele != MP_DELE_HIDE && r.on_dele != MP_DELE_EXPUNGE) ||
		    mp_policy_folder_match(p, "u@example.com", "Trash", '/',
					   m, 2) != 1)
			__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
		mp_policy_unref(&p);
		p = mp_policy_holder_current(sh->holder);
		if (p == NULL)
			__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
		mp_policy_unref(&p);
		n++;
	}
	__atomic_add_fetch(&sh->reads, n, __ATOMIC_RELAXED);
	return NULL;
}

static void test_threads(void **state)
{
	static const char *const texts[] = {
		GOOD_A "folder_quota {\n  folder Trash {\n    storage = 1M\n  }\n}\n",
		GOOD_B "folder_quota {\n  folder Trash {\n    storage = 2M\n  }\n}\n",
	};
	struct fixture *f = *state;
	struct shared sh;
	struct mp_error error;
	struct mp_policy *p;
	pthread_t threads[4];
	unsigned int i;

	memset(&sh, 0, sizeof(sh));
	sh.path = f->path;
	replace_file(f, texts[0]);
	assert_int_equal(mp_policy_holder_new(NULL, f->path,
					      MP_HOLDER_KEEP_LAST_GOOD,
					      &sh.holder, &error), 0);
	p = get_expect(sh.holder, MP_HOLDER_LOADED, &error);
	mp_policy_unref(&p);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, reader, &sh),
				 0);
	/* swaps by file change (seen by the readers' get) and by reload */
	for (i = 0; i < 200; i++) {
		replace_file(f, texts[i % 2]);
		if (i % 3 == 0)
			assert_int_equal(mp_policy_holder_reload(sh.holder,
								 &error), 0);
	}
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	assert_int_equal(sh.failures, 0);
	assert_true(sh.reads > 0);
	mp_policy_holder_free(&sh.holder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_on_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_once_per_state,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_reload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_relative_path, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests_name("policy-holder", tests, NULL, NULL);
}

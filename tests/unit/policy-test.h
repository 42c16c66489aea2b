#ifndef MAILPOLICY_TESTS_POLICY_TEST_H
#define MAILPOLICY_TESTS_POLICY_TEST_H

/* policy-test.h: what the policy tests (test-policy*.c) share: the
 * sample file, loading a text that must load, and table checks of
 * retention and folder answers with their origins. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailpolicy/policy.h"
#include "mailpolicy/rate.h"

#define PT_K 1024ULL
#define PT_M (1024ULL * 1024)
#define PT_G (1024ULL * 1024 * 1024)
#define PT_DAY (24ULL * 3600)

/* $MP_SRCDIR/packaging/mailpolicy.conf (static buffer). */
const char *policy_test_sample(void);
/* The whole file, NUL-terminated (malloc()ed); fails the test on error. */
char *policy_test_read_file(const char *path, size_t *size_r);
/* Loads text named "t.conf"; fails the test with the error if it does
   not load. */
struct mp_policy *policy_test_load(const char *text);

/* Files on disk, for the tests of loading from files, list files and
   maps.  A fresh directory /tmp/NAME-XXXXXX in dir (64 bytes); 0 or -1,
   as cmocka setups return. */
int policy_test_mkdtemp(char dir[64], const char *name);
/* Removes dir and everything in it; 0 or -1. */
int policy_test_rmtree(const char *dir);
/* Writes dir/name through a rename (a new inode, so a holder sees the
   change whatever the timestamp granularity) and returns its path in one
   of four rotating static buffers. */
const char *policy_test_put(const char *dir, const char *name,
			    const char *text);
/* The fixture of a test that works on files: *state is a fresh
   directory (policy_test_dir_setup(), as a cmocka setup), removed with
   all in it by policy_test_dir_teardown(). */
struct policy_test_dir {
	char dir[64];
};
int policy_test_dir_setup(void **state);
int policy_test_dir_teardown(void **state);
/* policy_test_put() into the fixture's directory. */
const char *policy_test_dir_put(const struct policy_test_dir *d,
				const char *name, const char *text);
/* item: key, count per window_secs, and what this check costs. */
void policy_test_rate_item(struct mp_rate_item *item, const char *key,
			   uint64_t count, uint64_t window_secs, uint64_t cost);
/* Loads path; fails the test with the error if it does not load. */
struct mp_policy *policy_test_load_path(const char *path);
/* Fails the test unless loading path fails with exactly expected. */
void policy_test_load_path_fails(const char *path, const char *expected);

struct origin_case {
	enum mp_origin_scope scope;
	const char *selector;
	unsigned int line;
};

#define BUILTIN_ORIGIN { MP_ORIGIN_BUILTIN, NULL, 0 }
#define DEFAULT_ORIGIN(l) { MP_ORIGIN_DEFAULT, NULL, l }
#define DOMAIN_ORIGIN(d, l) { MP_ORIGIN_DOMAIN, d, l }
#define USER_ORIGIN(u, l) { MP_ORIGIN_USER, u, l }

void policy_test_assert_origin(const struct mp_origin *origin,
			       const struct origin_case *expected,
			       const char *what);

struct retention_case {
	const char *user;
	bool applies;
	uint64_t keep;
	enum mp_dele_action dele;
	uint64_t defer;
	enum mp_retrieve_action retrieve;
	const char *mailbox;
	uint64_t max_size;
	struct origin_case origin[MP_RETENTION_KEY_COUNT];
};

void policy_test_check_retention(const struct mp_policy *policy,
				 const struct retention_case *c);

struct match_case {
	const char *pattern;
	const char *root;
	uint64_t storage, messages;
	enum mp_folder_scope scope;
};

/* mp_policy_folder_match(user, folder, separator) gives count matches,
   the first (up to 3) as listed, deepest root first. */
struct folder_case {
	const char *user, *folder;
	char separator;
	size_t count;
	struct match_case match[3];
};

void policy_test_check_folder(const struct mp_policy *policy,
			      const struct folder_case *c);

#define SUB MP_FOLDER_SCOPE_SUBTREE
#define FOL MP_FOLDER_SCOPE_FOLDER

#endif

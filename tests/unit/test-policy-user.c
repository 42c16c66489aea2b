/* test-policy-user.c: one user's effective policy, the file's blocks
 * plus the host's userdb overrides (core/policy-user.c).
 *
 * What a plugin would see for a user whose userdb carries
 * pop3_retention_* and folder_quota_rule* fields: values trimmed, a bad
 * field refused with its reason and the file's value kept, and folder
 * overrides that take part in matching (an overridden scope moves the
 * governed root, a new pattern governs folders the file's rules do
 * not), under '/' and Maildir++ '.' separators alike. */

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

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static const char file_text[] =
	/* 1 */ "pop3_retention {\n"
	/* 2 */ "  keep_after_retrieval = 30d\n"
	/* 3 */ "  on_dele = defer 7d\n"
	/* 4 */ "}\n"
	/* 5 */ "folder_quota {\n"
	/* 6 */ "  folder Trash {\n"
	/* 7 */ "    storage = 100M\n"
	/* 8 */ "  }\n"
	/* 9 */ "  folder Archive {\n"
	/* 10 */ "    storage = 2G\n"
	/* 11 */ "  }\n"
	/* 12 */ "  folder INBOX {\n"
	/* 13 */ "    messages = 1000\n"
	/* 14 */ "  }\n"
	/* 15 */ "}\n"
	/* 16 */ "folder_quota domain d.example {\n"
	/* 17 */ "  folder Trash {\n"
	/* 18 */ "    storage = 200M\n"
	/* 19 */ "  }\n"
	/* 20 */ "}\n";

static int setup(void **state)
{
	*state = policy_test_load(file_text);
	return 0;
}

static int teardown(void **state)
{
	struct mp_policy *policy = *state;

	mp_policy_unref(&policy);
	return 0;
}

static struct mp_user_policy *user_new(struct mp_policy *policy,
				       const char *user)
{
	struct mp_user_policy *up;

	assert_int_equal(mp_user_policy_new(NULL, policy, user, &up), 0);
	assert_non_null(up);
	return up;
}

/* Applies field=value and expects ret (1 applied, 0 not ours, -1
   refused with a reason containing reason). */
static void set_expect(struct mp_user_policy *up, const char *field,
		       const char *value, int ret, const char *reason)
{
	const char *error = NULL;
	int got = mp_user_policy_set_field(up, field, value, &error);

	if (got != ret)
		fail_msg("%s=\"%s\": %d (%s), expected %d", field, value, got,
			 got < 0 ? error : "-", ret);
	if (ret < 0 && (error == NULL || strstr(error, reason) == NULL))
		fail_msg("%s=\"%s\": reason \"%s\", expected \"%s\"", field,
			 value, error != NULL ? error : "(null)", reason);
}

static void test_retention_overrides(void **state)
{
	struct mp_user_policy *up = user_new(*state, "bob@d.example");
	struct mp_retention r;
	char value[64];

	/* nothing applied yet: the file's values */
	assert_true(mp_user_policy_retention(up, &r));
	assert_int_equal(r.keep_after_retrieval, 30 * PT_DAY);
	assert_int_equal(r.origin[MP_RETENTION_KEEP_AFTER_RETRIEVAL].scope,
			 MP_ORIGIN_DEFAULT);

	set_expect(up, "pop3_retention_keep_after_retrieval", "  7d \t", 1, NULL);
	set_expect(up, "pop3_retention_on_dele", "hide", 1, NULL);
	set_expect(up, "pop3_retention_max_retained_size", " 1G", 1, NULL);
	/* the value buffer may be reused by the host: the mailbox stays */
	snprintf(value, sizeof(value), " move Old Mail ");
	set_expect(up, "pop3_retention_on_retrieve", value, 1, NULL);
	memset(value, 'x', sizeof(value) - 1);
	assert_true(mp_user_policy_retention(up, &r));
	assert_int_equal(r.keep_after_retrieval, 7 * PT_DAY);
	assert_int_equal(r.on_dele, MP_DELE_HIDE);
	assert_int_equal(r.max_retained_size, PT_G);
	assert_int_equal(r.on_retrieve, MP_RETRIEVE_MOVE);
	assert_string_equal(r.retrieve_mailbox, "Old Mail");
	assert_int_equal(r.origin[MP_RETENTION_ON_DELE].scope,
			 MP_ORIGIN_OVERRIDE);

	/* a bad value is refused with a reason; the value stands */
	set_expect(up, "pop3_retention_keep_after_retrieval", "7 days", -1,
		   "\"7 days\": invalid duration");
	set_expect(up, "pop3_retention_on_dele", "defer", -1,
		   "needs a duration");
	set_expect(up, "pop3_retention_on_dele", "defer 0", -1,
		   "above zero");
	assert_true(mp_user_policy_retention(up, &r));
	assert_int_equal(r.keep_after_retrieval, 7 * PT_DAY);
	assert_int_equal(r.on_dele, MP_DELE_HIDE);

	/* not ours, or nothing to do */
	set_expect(up, "pop3_retention_something", "7d", 0, NULL);
	set_expect(up, "quota_rule", "*:storage=1G", 0, NULL);
	set_expect(up, "pop3_retention_on_dele", "   ", 0, NULL);
	set_expect(up, "pop3_retention_on_dele", "", 0, NULL);
	assert_true(mp_user_policy_retention(up, &r));
	assert_int_equal(r.on_dele, MP_DELE_HIDE);

	/* the shared policy is untouched */
	assert_true(mp_policy_retention(*state, "bob@d.example", &r));
	assert_int_equal(r.keep_after_retrieval, 30 * PT_DAY);
	mp_user_policy_free(&up);
	assert_null(up);
	mp_user_policy_free(&up);	/* NULL: no-op */
}

/* A user no pop3_retention block names: an override makes the plugin
   apply to the user. */
static void test_retention_override_only(void **state)
{
	struct mp_policy *policy = policy_test_load("folder_quota {\n}\n");
	struct mp_user_policy *up = user_new(policy, "a@b.example");
	struct mp_retention r;

	(void)state;
	assert_false(mp_user_policy_retention(up, &r));
	assert_int_equal(r.keep_after_retrieval, MP_DURATION_NEVER);
	set_expect(up, "pop3_retention_keep_after_retrieval", "x", -1, "invalid");
	assert_false(mp_user_policy_retention(up, &r));
	set_expect(up, "pop3_retention_keep_after_retrieval", "1d", 1, NULL);
	assert_true(mp_user_policy_retention(up, &r));
	assert_int_equal(r.keep_after_retrieval, PT_DAY);
	mp_user_policy_free(&up);
	mp_policy_unref(&policy);
}

static void test_folder_overrides(void **state)
{
	struct mp_user_policy *up = user_new(*state, "bob@d.example");
	struct mp_folder_match m[4];
	struct mp_folder_rule rule;

	assert_int_equal(mp_user_policy_folder_rule_count(up), 3);
	/* a key of a file rule: same index, other keys inherited */
	set_expect(up, "folder_quota_rule", " Trash:messages=50 ", 1, NULL);
	assert_int_equal(mp_user_policy_folder_rule_count(up), 3);
	assert_true(mp_user_policy_folder_rule(up, 0, &rule));
	assert_string_equal(rule.pattern, "Trash");
	assert_int_equal(rule.storage, 200 * PT_M);
	assert_int_equal(rule.messages, 50);
	assert_int_equal(rule.origin[MP_FOLDER_STORAGE].scope, MP_ORIGIN_DOMAIN);
	assert_int_equal(rule.origin[MP_FOLDER_MESSAGES].scope,
			 MP_ORIGIN_OVERRIDE);

	/* an overridden scope changes the governed root */
	assert_int_equal(mp_user_policy_folder_match(up, "Archive/2024", '/',
						     m, 4), 0);
	set_expect(up, "folder_quota_rule2", "Archive:scope=subtree:storage=10G",
		   1, NULL);
	assert_int_equal(mp_user_policy_folder_match(up, "Archive/2024", '/',
						     m, 4), 1);
	assert_int_equal(m[0].root_len, strlen("Archive"));
	assert_int_equal(m[0].rule.storage, 10 * PT_G);
	assert_int_equal(m[0].rule_index, 1);
	assert_int_equal(mp_user_policy_folder_match(up, "Archive.2024.Q1", '.',
						     m, 4), 1);
	assert_int_equal(m[0].root_len, strlen("Archive"));

	/* a pattern the file lacks adds a rule, after the file's */
	assert_int_equal(mp_user_policy_folder_match(up, "Projects.apollo", '.',
						     m, 4), 0);
	set_expect(up, "folder_quota_rule3",
		   "Projects/%:storage=1G:when_full=expunge_oldest", 1, NULL);
	assert_int_equal(mp_user_policy_folder_rule_count(up), 4);
	assert_int_equal(mp_user_policy_folder_match(up, "Projects.apollo", '.',
						     m, 4), 1);
	assert_string_equal(m[0].rule.pattern, "Projects/%");
	assert_int_equal(m[0].rule_index, 3);
	assert_int_equal(m[0].rule.when_full, MP_WHEN_FULL_EXPUNGE_OLDEST);
	assert_int_equal(mp_user_policy_folder_match(up, "Projects/apollo", '/',
						     m, 4), 1);
	assert_int_equal(mp_user_policy_folder_match(up, "Projects/a/b", '/',
						     m, 4), 0);
	/* ... and a later field changes it again */
	set_expect(up, "folder_quota_rule4", "Projects/%:storage=2G", 1, NULL);
	assert_int_equal(mp_user_policy_folder_rule_count(up), 4);
	assert_true(mp_user_policy_folder_rule(up, 3, &rule));
	assert_int_equal(rule.storage, 2 * PT_G);
	assert_int_equal(rule.when_full, MP_WHEN_FULL_EXPUNGE_OLDEST);

	/* INBOX in any case is the file's INBOX rule */
	set_expect(up, "folder_quota_rule5", "inbox:storage=5M", 1, NULL);
	assert_int_equal(mp_user_policy_folder_rule_count(up), 4);
	assert_true(mp_user_policy_folder_rule(up, 2, &rule));
	assert_string_equal(rule.pattern, "INBOX");
	assert_int_equal(rule.storage, 5 * PT_M);
	assert_int_equal(rule.messages, 1000);

	/* the shared policy and other users are untouched */
	assert_int_equal(mp_policy_folder_rule_count(*state, "bob@d.example"), 3);
	assert_true(mp_policy_folder_rule(*state, "bob@d.example", 1, &rule));
	assert_int_equal(rule.scope, MP_FOLDER_SCOPE_FOLDER);
	assert_int_equal(mp_policy_folder_match(*state, "bob@d.example",
						"Archive/2024", '/', m, 4), 0);
	mp_user_policy_free(&up);
}

static void test_folder_refused(void **state)
{
	struct mp_user_policy *up = user_new(*state, "carol@x.example");
	struct mp_folder_rule rule;

	/* all keys of a field or none */
	set_expect(up, "folder_quota_rule", "Trash:storage=1M:messages=many", -1,
		   "messages \"many\": ");
	set_expect(up, "folder_quota_rule", "Trash:storage=10X", -1,
		   "storage \"10X\": invalid size");
	set_expect(up, "folder_quota_rule", "Trash:scope=tree", -1,
		   "scope \"tree\": unknown value (use folder or subtree)");
	set_expect(up, "folder_quota_rule", "Trash:when_full=delete", -1,
		   "unknown value (use refuse or expunge_oldest)");
	set_expect(up, "folder_quota_rule", "Trash:storage=", -1,
		   "storage: missing value");
	set_expect(up, "folder_quota_rule", "Trash:storage=1M:quota", -1,
		   "\"quota\": use KEY=VALUE");
	set_expect(up, "folder_quota_rule", "Trash:storage=1M:size=1", -1,
		   "unknown key \"size\"");
	set_expect(up, "folder_quota_rule", "Trash", -1, "use PATTERN:KEY=VALUE");
	set_expect(up, "folder_quota_rule", "Trash:size=1M", -1,
		   "use PATTERN:KEY=VALUE");
	set_expect(up, "folder_quota_rule", " :storage=1M", -1,
		   "missing folder pattern");
	set_expect(up, "folder_quota_rule", "Tr\001sh:storage=1M", -1,
		   "control character");
	assert_true(mp_user_policy_folder_rule(up, 0, &rule));
	assert_int_equal(rule.storage, 100 * PT_M);
	assert_int_equal(rule.messages, 0);
	assert_int_equal(rule.origin[MP_FOLDER_STORAGE].scope, MP_ORIGIN_DEFAULT);
	assert_int_equal(mp_user_policy_folder_rule_count(up), 3);

	/* field names: Dovecot's numbering, nothing else */
	set_expect(up, "folder_quota_rule10", "A:storage=1M", 1, NULL);
	set_expect(up, "folder_quota_rule1", "B:storage=1M", 0, NULL);
	set_expect(up, "folder_quota_rule02", "B:storage=1M", 0, NULL);
	set_expect(up, "folder_quota_rulex", "B:storage=1M", 0, NULL);
	set_expect(up, "folder_quota_rules", "B:storage=1M", 0, NULL);
	set_expect(up, "folder_quota", "B:storage=1M", 0, NULL);
	assert_int_equal(mp_user_policy_folder_rule_count(up), 4);

	/* a pattern may hold ':'; blanks around keys and values go */
	set_expect(up, "folder_quota_rule2", "Work:2024 : storage = 3M ", 1, NULL);
	assert_true(mp_user_policy_folder_rule(up, 4, &rule));
	assert_string_equal(rule.pattern, "Work:2024");
	assert_int_equal(rule.storage, 3 * PT_M);
	mp_user_policy_free(&up);
}

/* At most MP_POLICY's 256 rules per user, overrides included. */
static void test_folder_rule_limit(void **state)
{
	struct mp_policy *policy = policy_test_load("");
	struct mp_user_policy *up;
	struct mp_folder_match m[2];
	char value[64];
	unsigned int i;

	(void)state;
	up = user_new(policy, NULL);
	assert_null(mp_user_policy_user(up));
	for (i = 0; i < 256; i++) {
		snprintf(value, sizeof(value), "F%u:messages=%u", i, i + 1);
		set_expect(up, "folder_quota_rule", value, 1, NULL);
	}
	set_expect(up, "folder_quota_rule", "F999:messages=1", -1,
		   "too many folder rules (limit 256)");
	/* an existing one still changes */
	set_expect(up, "folder_quota_rule", "F7:storage=1K", 1, NULL);
	assert_int_equal(mp_user_policy_folder_rule_count(up), 256);
	assert_int_equal(mp_user_policy_folder_match(up, "F255", '/', m, 2), 1);
	assert_int_equal(m[0].rule.messages, 256);
	assert_int_equal(m[0].rule_index, 255);
	mp_user_policy_free(&up);
	mp_policy_unref(&policy);
}

/* The user policy keeps its policy alive. */
static void test_lifetime(void **state)
{
	struct mp_policy *policy = policy_test_load(file_text);
	struct mp_user_policy *up = user_new(policy, "bob@d.example");
	struct mp_folder_match m[2];

	(void)state;
	assert_ptr_equal(mp_user_policy_policy(up), policy);
	assert_string_equal(mp_user_policy_user(up), "bob@d.example");
	mp_policy_unref(&policy);
	assert_int_equal(mp_user_policy_folder_match(up, "Trash", '/', m, 2), 1);
	assert_int_equal(m[0].rule.storage, 200 * PT_M);
	mp_user_policy_free(&up);
}

struct counting_env {
	struct mp_env env;
	unsigned int calls, fail_from;
	long live;
};

static void *counting_alloc(void *ctx, size_t size)
{
	struct counting_env *ce = ctx;
	void *p;

	if (ce->calls++ >= ce->fail_from)
		return NULL;
	p = calloc(1, size);
	if (p != NULL)
		ce->live++;
	return p;
}

static void counting_free(void *ctx, void *ptr)
{
	struct counting_env *ce = ctx;

	if (ptr == NULL)
		return;
	ce->live--;
	free(ptr);
}

/* Out of memory anywhere: a clean -1 or refusal, nothing leaked. */
static void test_out_of_memory(void **state)
{
	struct counting_env ce;
	struct mp_user_policy *up;
	const char *error;
	unsigned int n;
	int ret;

	for (n = 0; n < 40; n++) {
		memset(&ce, 0, sizeof(ce));
		ce.env.alloc = counting_alloc;
		ce.env.free = counting_free;
		ce.env.ctx = &ce;
		ce.fail_from = n;
		if (mp_user_policy_new(&ce.env, *state, "bob@d.example",
				       &up) < 0) {
			assert_null(up);
			assert_int_equal(ce.live, 0);
			continue;
		}
		ret = mp_user_policy_set_field(up, "folder_quota_rule",
					       "New/%:storage=1M", &error);
		if (ret < 0)
			assert_string_equal(error, "out of memory");
		ret = mp_user_policy_set_field(up, "pop3_retention_on_retrieve",
					       "move X", &error);
		if (ret < 0)
			assert_string_equal(error, "out of memory");
		mp_user_policy_free(&up);
		assert_int_equal(ce.live, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_retention_overrides, setup,
						teardown),
		cmocka_unit_test(test_retention_override_only),
		cmocka_unit_test_setup_teardown(test_folder_overrides, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_folder_refused, setup,
						teardown),
		cmocka_unit_test(test_folder_rule_limit),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test_setup_teardown(test_out_of_memory, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("policy-user", tests, NULL, NULL);
}

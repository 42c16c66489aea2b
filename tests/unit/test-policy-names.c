/* test-policy-names.c: the words of the policy language
 * (core/policy-names.c) are one source for the parser and the printers.
 *
 * Each key and enum word printed by mp_*_name() must be what the parser
 * accepts (a file setting every key to every value it prints loads
 * and reads back the same), each table ends in "?", and the choice
 * error strings the parser gives ("use a, b or c") list exactly the
 * accepted words. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "../../core/policy-private.h"
#include "policy-test.h"

static void test_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(mp_origin_scope_name(MP_ORIGIN_OVERRIDE + 1), "?");
	assert_string_equal(mp_retention_key_name(MP_RETENTION_KEY_COUNT), "?");
	assert_string_equal(mp_folder_key_name(MP_FOLDER_KEY_COUNT), "?");
	assert_string_equal(mp_listener_key_name(MP_LISTENER_KEY_COUNT), "?");
	assert_string_equal(mp_milter_key_name(MP_MILTER_KEY_COUNT), "?");
	assert_string_equal(mp_dele_action_name(MP_DELE_HIDE + 1), "?");
	assert_string_equal(mp_retrieve_action_name(MP_RETRIEVE_MOVE + 1), "?");
	assert_string_equal(mp_folder_scope_name(MP_FOLDER_SCOPE_SUBTREE + 1),
			    "?");
	assert_string_equal(mp_requirement_name(MP_FORBID + 1), "?");
	assert_string_equal(mp_sender_check_name(MP_SENDER_MAP + 1), "?");
	assert_string_equal(mp_verdict_name(MP_VERDICT_TEMPFAIL + 1), "?");
	assert_string_equal(mp_milter_mode_name(MP_MODE_REPORT + 1), "?");
	assert_string_equal(mp_header_from_name(MP_HEADER_FROM_MATCH_SENDER +
						1), "?");
	assert_string_equal(mp_over_limit_name(MP_OVER_LIMIT_HOLD + 1), "?");
	assert_string_equal(mp_limit_key_name(MP_LIMIT_KEY_COUNT), "?");
	assert_string_equal(mp_limit_source_name(MP_LIMIT_FROM_LOGIN_ENTRY + 1),
			    "?");
	assert_string_equal(mp_bool_name(true), "yes");
	assert_string_equal(mp_bool_name(false), "no");
	assert_string_equal(mp_origin_scope_name(MP_ORIGIN_BUILTIN),
			    "built-in");
	assert_string_equal(mp_origin_scope_name(MP_ORIGIN_OVERRIDE),
			    "override");
}

static const char *limit_key_name_u(unsigned int key)
{
	return mp_limit_key_name((enum mp_limit_key)key);
}

static const char *limit_source_name_u(unsigned int source)
{
	return mp_limit_source_name((enum mp_limit_source)source);
}

/* Every table is complete (no NULL or "?" below the count) and has no
   word twice. */
static void check_table(const char *(*name)(unsigned int), unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		assert_non_null(name(i));
		assert_string_not_equal(name(i), "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(name(i), name(j));
		assert_int_equal(policy_name_lookup(name, n, name(i),
						    strlen(name(i))), (int)i);
	}
	assert_string_equal(name(n), "?");
}

static void test_tables(void **state)
{
	(void)state;
	check_table(policy_retention_key_name, MP_RETENTION_KEY_COUNT);
	check_table(policy_folder_key_name, MP_FOLDER_KEY_COUNT);
	check_table(policy_listener_key_name, MP_LISTENER_KEY_COUNT);
	check_table(policy_milter_key_name, MP_MILTER_KEY_COUNT);
	check_table(policy_section_name_u, POLICY_SECTION_COUNT);
	check_table(limit_key_name_u, MP_LIMIT_KEY_COUNT);
	check_table(limit_source_name_u, MP_LIMIT_FROM_LOGIN_ENTRY + 1);
	/* a limit key is named as its listener key */
	for (unsigned int k = 0; k < MP_LIMIT_KEY_COUNT; k++)
		assert_string_equal(mp_limit_key_name(k),
				    mp_listener_key_name(MP_LISTENER_RATE_LOGIN +
							 k));
	assert_int_equal(policy_name_lookup(policy_milter_key_name,
					    MP_MILTER_KEY_COUNT, "mod", 3), -1);
}

/* The words that take an argument, as the error strings show them. */
static const char *choice_hint(const struct policy_choice *choice,
			       unsigned int value)
{
	if (choice == &policy_choice_dele && value == MP_DELE_DEFER)
		return "DURATION";
	if (choice == &policy_choice_retrieve && value == MP_RETRIEVE_MOVE)
		return "MAILBOX";
	return NULL;
}

static void check_choice(const struct policy_choice *choice)
{
	char expected[256];
	const char *hint;
	unsigned int i, n = 0, k = 0;
	size_t len;

	for (i = 0; i < choice->count; i++)
		n += (choice->allowed >> i) & 1;
	len = (size_t)snprintf(expected, sizeof(expected),
			       "unknown value (use ");
	for (i = 0; i < choice->count; i++) {
		if ((choice->allowed & (1u << i)) == 0) {
			assert_int_equal(policy_choice_lookup(
				choice, choice->name(i),
				strlen(choice->name(i))), -1);
			continue;
		}
		assert_int_equal(policy_choice_lookup(choice, choice->name(i),
						      strlen(choice->name(i))),
				 (int)i);
		hint = choice_hint(choice, i);
		len += (size_t)snprintf(expected + len, sizeof(expected) - len,
					"%s%s%s%s",
					k == 0 ? "" : k + 1 == n ? " or " : ", ",
					choice->name(i), hint != NULL ? " " : "",
					hint != NULL ? hint : "");
		k++;
	}
	snprintf(expected + len, sizeof(expected) - len, ")");
	assert_string_equal(choice->error, expected);
	assert_string_equal(choice->name(choice->count), "?");
}

static void test_choices(void **state)
{
	(void)state;
	check_choice(&policy_choice_dele);
	check_choice(&policy_choice_retrieve);
	check_choice(&policy_choice_scope);
	check_choice(&policy_choice_when_full);
	check_choice(&policy_choice_auth);
	check_choice(&policy_choice_tls);
	check_choice(&policy_choice_sender);
	check_choice(&policy_choice_unknown_listener);
	check_choice(&policy_choice_mode);
	check_choice(&policy_choice_store_failure);
	check_choice(&policy_choice_header_from);
	check_choice(&policy_choice_over_limit);
	check_choice(&policy_choice_bool);
}

/* What the printers print, the parser reads back. */
static void test_round_trip(void **state)
{
	char text[8192], size[32], duration[32], rate[32];
	struct mp_policy *policy;
	struct mp_error error;
	const struct mp_listener *l;
	const struct mp_milter_settings *m;
	struct mp_retention r;
	struct mp_folder_rule rule;
	struct mp_rate_spec spec = { 200, 3600 }, none = { 0, 0 },
		week = { 10000, 7 * 24 * 3600 };
	char unlimited[32], week_rate[32];
	size_t len = 0;
	unsigned int v;

	(void)state;
	for (v = 0; v <= MP_RETRIEVE_MOVE; v++) {
		len = 0;
		mp_units_format_size(1536 * 1024, size, sizeof(size));
		mp_units_format_duration(36 * 3600, duration, sizeof(duration));
		mp_units_format_rate(&spec, rate, sizeof(rate));
		mp_units_format_rate(&none, unlimited, sizeof(unlimited));
		mp_units_format_rate(&week, week_rate, sizeof(week_rate));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%s {\n  %s = %s\n  %s = %s%s%s\n  %s = %s%s\n  %s = %s\n}\n",
			policy_section_name(POLICY_SECTION_POP3_RETENTION),
			mp_retention_key_name(MP_RETENTION_KEEP_AFTER_RETRIEVAL),
			duration,
			mp_retention_key_name(MP_RETENTION_ON_DELE),
			mp_dele_action_name(v % 3),
			v % 3 == MP_DELE_DEFER ? " " : "",
			v % 3 == MP_DELE_DEFER ? duration : "",
			mp_retention_key_name(MP_RETENTION_ON_RETRIEVE),
			mp_retrieve_action_name(v),
			v == MP_RETRIEVE_MOVE ? " Box" : "",
			mp_retention_key_name(MP_RETENTION_MAX_RETAINED_SIZE),
			size);
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%s {\n  %s X {\n    %s = %s\n    %s = 7\n    %s = %s\n"
			"    %s = %s\n  }\n}\n",
			policy_section_name(POLICY_SECTION_FOLDER_QUOTA),
			policy_section_name(POLICY_SECTION_FOLDER),
			mp_folder_key_name(MP_FOLDER_STORAGE), size,
			mp_folder_key_name(MP_FOLDER_MESSAGES),
			mp_folder_key_name(MP_FOLDER_SCOPE),
			mp_folder_scope_name(v % 2),
			mp_folder_key_name(MP_FOLDER_WHEN_FULL),
			mp_when_full_name((v + 1) % 2));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%s l {\n  %s = 25\n  %s = %s\n  %s = %s\n  %s = %s\n"
			"  %s = %s\n  %s = %s\n  %s = %s\n  %s = 48\n"
			"  %s = %s\n  %s = %s\n  %s = %s\n  %s = %s\n"
			"  %s = %s %s\n}\n",
			policy_section_name(POLICY_SECTION_LISTENER),
			mp_listener_key_name(MP_LISTENER_PORTS),
			mp_listener_key_name(MP_LISTENER_AUTH),
			mp_requirement_name(MP_REQUIRE + v % 2),
			mp_listener_key_name(MP_LISTENER_TLS),
			mp_requirement_name(MP_REQUIRE + v % 2),
			mp_listener_key_name(MP_LISTENER_MIN_TLS),
			mp_units_tls_version_name(v % 2 ? MP_TLS_ANY :
						  MP_TLS_1_3),
			mp_listener_key_name(MP_LISTENER_SENDER),
			mp_sender_check_name(MP_SENDER_ANY + v % 3),
			mp_listener_key_name(MP_LISTENER_RATE_SENDER), rate,
			mp_listener_key_name(MP_LISTENER_RATE_CLIENT_IP), rate,
			mp_listener_key_name(MP_LISTENER_RATE_CLIENT_IPV6_PREFIX),
			mp_listener_key_name(MP_LISTENER_RATE_LOGIN),
			unlimited,
			mp_listener_key_name(MP_LISTENER_HEADER_FROM),
			mp_header_from_name(v == 0 ? MP_HEADER_FROM_ANY :
					    MP_HEADER_FROM_MATCH_SENDER),
			mp_listener_key_name(MP_LISTENER_OVER_LIMIT),
			mp_over_limit_name(v),
			mp_listener_key_name(MP_LISTENER_ADD_AUDIT_HEADER),
			mp_bool_name(v % 2 == 0),
			mp_listener_key_name(MP_LISTENER_RATE_DOMAIN_RECIPIENTS),
			rate, week_rate);
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%s {\n  %s = %s\n  %s = %s\n  %s = %s\n}\n",
			policy_section_name(POLICY_SECTION_MILTER),
			mp_milter_key_name(MP_MILTER_UNKNOWN_LISTENER),
			mp_verdict_name(v),
			mp_milter_key_name(MP_MILTER_MODE),
			mp_milter_mode_name(v % 2),
			mp_milter_key_name(MP_MILTER_RATE_STORE_FAILURE),
			mp_verdict_name(v % 2 ? MP_VERDICT_TEMPFAIL :
					MP_VERDICT_ACCEPT));
		if (mp_policy_load_string(NULL, "t", text, len, &policy,
					  &error) < 0)
			fail_msg("%s\n%s", error.text, text);
		assert_true(mp_policy_retention(policy, "a@b.c", &r));
		assert_int_equal(r.keep_after_retrieval, 36 * 3600);
		assert_int_equal(r.on_dele, v % 3);
		assert_int_equal(r.on_retrieve, v);
		assert_int_equal(r.max_retained_size, 1536 * 1024);
		assert_true(mp_policy_folder_rule(policy, "a@b.c", 0, &rule));
		assert_int_equal(rule.scope, v % 2);
		assert_int_equal(rule.when_full, (v + 1) % 2);
		l = mp_policy_listener_find(policy, "l", 0);
		assert_int_equal(l->auth, MP_REQUIRE + v % 2);
		assert_int_equal(l->min_tls, v % 2 ? MP_TLS_ANY : MP_TLS_1_3);
		assert_int_equal(l->sender, v % 3);
		assert_int_equal(l->limits[MP_LIMIT_SENDER].window_count, 1);
		assert_int_equal(l->limits[MP_LIMIT_SENDER].windows[0].count,
				 200);
		assert_int_equal(l->rate_client_ipv6_prefix, 48);
		assert_int_equal(l->limits[MP_LIMIT_LOGIN].window_count, 0);
		assert_int_equal(l->origin[MP_LISTENER_RATE_LOGIN].scope,
				 MP_ORIGIN_DEFAULT);
		assert_int_equal(l->header_from, v == 0 ? MP_HEADER_FROM_ANY :
				 MP_HEADER_FROM_MATCH_SENDER);
		assert_int_equal(l->over_limit, v);
		assert_int_equal(l->add_audit_header, v % 2 == 0);
		assert_int_equal(
			l->limits[MP_LIMIT_DOMAIN_RECIPIENTS].window_count, 2);
		assert_int_equal(
			l->limits[MP_LIMIT_DOMAIN_RECIPIENTS].windows[1].window_secs,
			7 * 24 * 3600);
		m = mp_policy_milter(policy);
		assert_int_equal(m->unknown_listener, v);
		assert_int_equal(m->mode, v % 2);
		mp_policy_unref(&policy);
	}
}

/* Every key the parser accepts has its entry in mailpolicy.conf(5): a
   line ".BI KEY " that opens its paragraph. */
static void check_documented(const char *man, const char *(*name)(unsigned int),
			     unsigned int n)
{
	char needle[80];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(needle, sizeof(needle), "\n.BI %s \"", name(i));
		if (strstr(man, needle) == NULL)
			fail_msg("mailpolicy.conf.5 has no entry for %s", name(i));
	}
}

static void test_man_page(void **state)
{
	const char *srcdir = getenv("MP_SRCDIR");
	char path[4096], *man;
	size_t size;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/mailpolicy.conf.5",
		 srcdir != NULL ? srcdir : ".");
	man = policy_test_read_file(path, &size);
	check_documented(man, policy_retention_key_name, MP_RETENTION_KEY_COUNT);
	check_documented(man, policy_folder_key_name, MP_FOLDER_KEY_COUNT);
	check_documented(man, policy_listener_key_name, MP_LISTENER_KEY_COUNT);
	check_documented(man, policy_milter_key_name, MP_MILTER_KEY_COUNT);
	free(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_choices),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_man_page),
	};

	return cmocka_run_group_tests_name("policy-names", tests, NULL, NULL);
}

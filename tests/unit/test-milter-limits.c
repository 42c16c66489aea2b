/* test-milter-limits.c: how the milter counts (issue 12), away from
 * libmilter: messages go through what the milter does at the end of a
 * message (milter_rate_batch(), one mp_rate_check_items() call on a
 * memory store, milter_decide_rate()) on a test clock, and each test
 * asserts the verdicts a client would see and the counts left in the
 * store.  Policy: tests/unit/data/milter-limits.conf and its rate_map. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "mailpolicy/rate.h"
#include "../../milter/decision.h"

/* An hour boundary (windows are aligned to the epoch). */
#define T0 (UINT64_C(472222) * 3600 * 1000)
#define MINUTE (UINT64_C(60) * 1000)

static struct mp_policy *policy;
static struct mp_rate_store *store;
static uint64_t now;

static int setup(void **state)
{
	struct mp_error error;
	const char *srcdir = getenv("MP_SRCDIR");
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/unit/data/milter-limits.conf",
		 srcdir != NULL ? srcdir : ".");
	if (mp_policy_load_file(NULL, path, &policy, &error) < 0) {
		fprintf(stderr, "%s\n", error.text);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mp_policy_unref(&policy);
	return 0;
}

/* A fresh store and clock for each test. */
static int fresh(void **state)
{
	const char *error;

	(void)state;
	now = T0;
	return mp_rate_store_memory_create(NULL, 0, &store, &error);
}

static int done(void **state)
{
	(void)state;
	mp_rate_store_free(&store);
	return 0;
}

static const struct mp_listener *listener(const char *label)
{
	const struct mp_listener *l = mp_policy_listener_find(policy, label, 0);

	assert_non_null(l);
	return l;
}

/* One message at the end of DATA: its verdict as a word ("accept",
   "tempfail", "reject", "hold"), the decision in *d. */
static const char *send(const char *label, const char *login,
			const char *client, const char *sender, uint64_t rcpts,
			struct milter_decision *d)
{
	const struct mp_listener *l = listener(label);
	struct milter_rate_batch b;
	struct milter_facts f;
	enum mp_rate_status status = MP_RATE_ALLOWED;
	const char *error = NULL;

	memset(&f, 0, sizeof(f));
	f.login = login;
	f.sender = sender;
	/* a client the test names must be one: never an unknown client */
	f.client_known = client != NULL;
	if (client != NULL)
		assert_int_equal(mp_addr_parse(client, &f.client, &error), 0);
	if (milter_rate_batch(policy, l, &f, rcpts, &b) > 0)
		status = mp_rate_check_items(store, b.items, b.count, now,
					     &error);
	assert_int_not_equal(status, MP_RATE_FAILED);
	milter_decide_rate(l, status, &b, MP_VERDICT_TEMPFAIL, d);
	return milter_decision_word(d);
}

static const char *send1(const char *label, const char *login,
			 struct milter_decision *d)
{
	return send(label, login, "192.0.2.1", login, 1, d);
}

/* The estimate of a counter now, without counting anything. */
static uint64_t count_of(const char *key, uint64_t limit, uint64_t window)
{
	struct mp_rate_item item;
	const char *error;

	memset(&item, 0, sizeof(item));
	item.key = key;
	item.rate.count = limit;
	item.rate.window_secs = window;
	item.cost = 0;
	assert_int_not_equal(mp_rate_check_items(store, &item, 1, now, &error),
			     MP_RATE_FAILED);
	return item.result.count;
}

/* rate_login = 3/1m 5/1h: all windows must hold. */
static void test_windows(void **state)
{
	struct milter_decision d;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_string_equal(send1("submission", "alice@example.com",
					  &d), "accept");
	assert_string_equal(send1("submission", "alice@example.com", &d),
			    "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_LOGIN);
	assert_string_equal(d.rcode, "450");
	assert_non_null(strstr(d.text, "rate_login = 3/1m"));
	/* two minutes on, the minute has room; the hour takes two more */
	now += 2 * MINUTE;
	assert_string_equal(send1("submission", "alice@example.com", &d),
			    "accept");
	assert_string_equal(send1("submission", "alice@example.com", &d),
			    "accept");
	assert_string_equal(send1("submission", "alice@example.com", &d),
			    "tempfail");
	assert_non_null(strstr(d.text, "rate_login = 5/1h"));
	/* still the hour, minutes later */
	now += 5 * MINUTE;
	assert_string_equal(send1("submission", "alice@example.com", &d),
			    "tempfail");
	assert_non_null(strstr(d.text, "rate_login = 5/1h"));
	/* refused messages counted nowhere: 5 in the hour, 0 in this
	   minute */
	assert_int_equal(count_of("login/1h/alice@example.com", 5, 3600), 5);
	assert_int_equal(count_of("login/1m/alice@example.com", 3, 60), 0);
	/* two hours on, the hour is free again */
	now += 2 * 60 * MINUTE;
	assert_string_equal(send1("submission", "alice@example.com", &d),
			    "accept");
}

/* rate_login_recipients = 10/1h: a message costs its recipients; one
   that does not fit is refused whole and costs nothing. */
static void test_recipients(void **state)
{
	struct milter_decision d;
	const char *c = "carol@example.com";

	(void)state;
	assert_string_equal(send("submission", c, NULL, c, 4, &d), "accept");
	now += MINUTE;
	assert_string_equal(send("submission", c, NULL, c, 4, &d), "accept");
	now += MINUTE;
	assert_string_equal(send("submission", c, NULL, c, 3, &d), "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_LOGIN_RECIPIENTS);
	assert_non_null(strstr(d.text, "rate_login_recipients = 10/1h"));
	assert_int_equal(count_of("login_rcpt/1h/carol@example.com", 10, 3600),
			 8);
	/* the refused message did not count as a message either */
	assert_int_equal(count_of("login/1h/carol@example.com", 5, 3600), 2);
	/* at the limit exactly */
	assert_string_equal(send("submission", c, NULL, c, 2, &d), "accept");
	now += MINUTE;
	assert_string_equal(send("submission", c, NULL, c, 1, &d), "tempfail");
	/* more recipients than the limit: no wait helps, refused for good */
	assert_string_equal(send("submission", "dave@example.com", NULL,
				 "dave@example.com", 11, &d), "reject");
	assert_string_equal(d.rcode, "550");
	assert_string_equal(d.xcode, "5.7.1");
	assert_non_null(strstr(d.text, "alone exceeds"));
	/* 0 recipients cost nothing on a recipient key */
	assert_string_equal(send("submission", "erin@example.com", NULL,
				 "erin@example.com", 0, &d), "accept");
	assert_int_equal(count_of("login_rcpt/1h/erin@example.com", 10, 3600),
			 0);
}

/* rate_domain = 6/1h: every login of example.com shares one count. */
static void test_domain_shared_by_logins(void **state)
{
	static const char *const logins[] = {
		"alice@example.com", "carol@EXAMPLE.com", "dave@example.com",
	};
	struct milter_decision d;

	(void)state;
	for (int i = 0; i < 6; i++)
		assert_string_equal(send1("submission", logins[i % 3], &d),
				    "accept");
	assert_string_equal(send1("submission", "erin@example.com", &d),
			    "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_DOMAIN);
	assert_non_null(strstr(d.text, "rate_domain = 6/1h"));
	/* the domain is counted lower-cased */
	assert_int_equal(count_of("domain/1h/example.com", 6, 3600), 6);
	/* erin's refused message spent nothing of her own */
	assert_int_equal(count_of("login/1h/erin@example.com", 5, 3600), 0);
	/* another domain has its own count */
	assert_string_equal(send1("submission", "bob@example.net", &d),
			    "accept");
}

/* Login and domain counters are shared by listeners, each comparing
   the count with its own limit: 587 and 465 make one cap. */
static void test_shared_across_listeners(void **state)
{
	struct milter_decision d;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_string_equal(send1("submission", "alice@example.com",
					  &d), "accept");
	/* 465 has over_limit = reject */
	assert_string_equal(send1("submissions", "alice@example.com", &d),
			    "reject");
	assert_int_equal(d.rule, MILTER_RULE_RATE_LOGIN);
	assert_string_equal(d.rcode, "550");
	assert_string_equal(d.xcode, "5.7.1");
	assert_non_null(strstr(d.text, "listener submissions: rate_login = "
			       "3/1m"));
	now += 2 * MINUTE;
	assert_string_equal(send1("submissions", "carol@example.com", &d),
			    "accept");
	assert_string_equal(send1("submissions", "carol@example.com", &d),
			    "accept");
	assert_string_equal(send1("submissions", "dave@example.com", &d),
			    "accept");
	/* the sixth message of example.com in the hour, on either port */
	assert_string_equal(send1("submission", "dave@example.com", &d),
			    "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_DOMAIN);
	assert_string_equal(send1("submissions", "erin@example.com", &d),
			    "reject");
	assert_int_equal(d.rule, MILTER_RULE_RATE_DOMAIN);
}

/* rate_map: a login's entry replaces a key's windows, a @domain entry
   sets the domain's cap, unlimited lifts a limit; the rest stays. */
static void test_map_overrides(void **state)
{
	struct milter_rate_batch b;
	struct milter_facts f;
	struct milter_decision d;
	const char *news = "newsletter@news.example.net";

	(void)state;
	/* 100/1h instead of 3/1m 5/1h, and no domain cap */
	for (int i = 0; i < 100; i++)
		assert_string_equal(send1("submission", news, &d), "accept");
	assert_string_equal(send1("submission", news, &d), "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_LOGIN);
	assert_non_null(strstr(d.text, "rate_login = 100/1h"));
	/* its recipients: 1000/1h from the entry */
	memset(&f, 0, sizeof(f));
	f.login = news;
	assert_int_equal(milter_rate_batch(policy, listener("submission"), &f,
					   7, &b), 2);
	assert_string_equal(b.keys[0], "login/1h/newsletter@news.example.net");
	assert_string_equal(b.keys[1],
			    "login_rcpt/1h/newsletter@news.example.net");
	assert_int_equal(b.items[1].rate.count, 1000);
	assert_int_equal(b.items[1].cost, 7);
	assert_int_equal(b.limits.origin[MP_LIMIT_LOGIN].source,
			 MP_LIMIT_FROM_LOGIN_ENTRY);
	assert_int_equal(b.limits.origin[MP_LIMIT_DOMAIN].source,
			 MP_LIMIT_FROM_DOMAIN_ENTRY);

	/* relay@example.com: no login limit, the domain's cap stays */
	for (int i = 0; i < 6; i++)
		assert_string_equal(send1("submission", "relay@example.com",
					  &d), "accept");
	assert_string_equal(send1("submission", "relay@example.com", &d),
			    "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_DOMAIN);

	/* @example.org: 2/1h for the domain, the logins keep 3/1m */
	assert_string_equal(send1("submission", "bob@example.org", &d),
			    "accept");
	assert_string_equal(send1("submission", "ceo@example.org", &d),
			    "accept");
	assert_string_equal(send1("submission", "ceo@example.org", &d),
			    "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_DOMAIN);
	assert_non_null(strstr(d.text, "rate_domain = 2/1h"));
	/* the map is this listener's: 465 has the block's 6/1h */
	assert_string_equal(send1("submissions", "dave@example.org", &d),
			    "accept");
}

/* over_limit = hold: accepted, on hold, not counted. */
static void test_hold(void **state)
{
	struct milter_decision d;

	(void)state;
	assert_string_equal(send1("held", "alice@example.com", &d), "accept");
	assert_false(d.hold);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(send1("held", "alice@example.com", &d),
				    "hold");
		assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
		assert_true(d.hold);
		assert_int_equal(d.rule, MILTER_RULE_RATE_LOGIN);
		assert_non_null(strstr(d.text, "rate limit reached (listener "
				       "held: rate_login = 1/1h)"));
	}
	assert_int_equal(count_of("login/1h/alice@example.com", 1, 3600), 1);
}

/* Client and sender keys are the listener's; IPv6 clients count by
   rate_client_ipv6_prefix. */
static void test_client_and_sender_keys(void **state)
{
	struct milter_rate_batch b;
	struct milter_facts f;
	struct milter_decision d;
	const char *error;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.sender = "Bulk@Example.NET";
	assert_int_equal(mp_addr_parse("2001:db8:1:1::1", &f.client, &error),
			 0);
	f.client_known = true;
	assert_int_equal(milter_rate_batch(policy, listener("mx"), &f, 2, &b),
			 3);
	assert_string_equal(b.keys[0], "mx/ip/1h/2001:db8:1::/48");
	assert_string_equal(b.keys[1], "mx/sender/1h/bulk@example.net");
	assert_string_equal(b.keys[2], "mx/ip_rcpt/1h/2001:db8:1::/48");
	assert_int_equal(b.items[2].cost, 2);

	/* two addresses of one /48: one client */
	assert_string_equal(send("mx", NULL, "2001:db8:1:1::1", "a@x.test", 1,
				 &d), "accept");
	assert_string_equal(send("mx", NULL, "2001:db8:1:ffff::9", "b@x.test",
				 1, &d), "accept");
	assert_string_equal(send("mx", NULL, "2001:db8:1:2::1", "c@x.test", 1,
				 &d), "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_CLIENT_IP);
	/* another /48, and IPv4 by address */
	assert_string_equal(send("mx", NULL, "2001:db8:2::1", "c@x.test", 3,
				 &d), "accept");
	assert_string_equal(send("mx", NULL, "2001:db8:2::1", "c@x.test", 1,
				 &d), "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_CLIENT_IP_RECIPIENTS);
	assert_string_equal(send("mx", NULL, "192.0.2.1", "c@x.test", 1, &d),
			    "accept");
	assert_string_equal(send("mx", NULL, "192.0.2.2", "c@x.test", 1, &d),
			    "accept");
	/* c@x.test has sent 3 accepted messages: 5/1h allows two more */
	assert_string_equal(send("mx", NULL, "192.0.2.3", "C@X.test", 1, &d),
			    "accept");
	assert_string_equal(send("mx", NULL, "192.0.2.4", "c@x.test", 1, &d),
			    "accept");
	assert_string_equal(send("mx", NULL, "192.0.2.5", "c@x.test", 1, &d),
			    "tempfail");
	assert_int_equal(d.rule, MILTER_RULE_RATE_SENDER);
	/* a label's '/' and '%' do not make a key of another shape */
	f.client_known = mp_addr_parse("192.0.2.7", &f.client, &error) == 0;
	assert_int_equal(milter_rate_batch(policy, listener("odd/label%"), &f,
					   1, &b), 1);
	assert_string_equal(b.keys[0], "odd%2Flabel%25/ip/1h/192.0.2.7");
}

/* A key whose subject is missing counts nothing: no login, a login
   without a domain, no client address (local submission). */
static void test_missing_subjects(void **state)
{
	struct milter_rate_batch b;
	struct milter_facts f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.sender = "x@example.com";
	assert_int_equal(milter_rate_batch(policy, listener("submission"), &f,
					   1, &b), 0);
	f.login = "";
	assert_int_equal(milter_rate_batch(policy, listener("submission"), &f,
					   1, &b), 0);
	f.login = "relay";
	/* 3/1m, 5/1h and the recipients; no domain */
	assert_int_equal(milter_rate_batch(policy, listener("submission"), &f,
					   1, &b), 3);
	for (size_t i = 0; i < b.count; i++)
		assert_int_not_equal(b.key[i], MP_LIMIT_DOMAIN);
	f.login = NULL;
	assert_int_equal(milter_rate_batch(policy, listener("mx"), &f, 1, &b),
			 1);
	assert_string_equal(b.keys[0], "mx/sender/1h/x@example.com");
}

/* Every key with four windows: 32 counters, one store call. */
static void test_all_keys_one_call(void **state)
{
	struct milter_rate_batch b;
	struct milter_facts f;
	struct milter_decision d;
	const char *error;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.login = "alice@example.com";
	f.sender = "alice@example.com";
	f.client_known = mp_addr_parse("192.0.2.1", &f.client, &error) == 0;
	assert_int_equal(milter_rate_batch(policy, listener("every"), &f, 1,
					   &b), MP_LIMIT_MAX_ITEMS);
	assert_int_equal(mp_rate_check_items(store, b.items, b.count, now,
					     &error), MP_RATE_ALLOWED);
	for (size_t i = 0; i < b.count; i++)
		for (size_t j = i + 1; j < b.count; j++)
			assert_string_not_equal(b.keys[i], b.keys[j]);
	assert_string_equal(send("every", f.login, "192.0.2.1", f.sender, 1,
				 &d), "tempfail");
	assert_non_null(strstr(d.text, "= 1/1m"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_windows, fresh, done),
		cmocka_unit_test_setup_teardown(test_recipients, fresh, done),
		cmocka_unit_test_setup_teardown(test_domain_shared_by_logins,
						fresh, done),
		cmocka_unit_test_setup_teardown(test_shared_across_listeners,
						fresh, done),
		cmocka_unit_test_setup_teardown(test_map_overrides, fresh, done),
		cmocka_unit_test_setup_teardown(test_hold, fresh, done),
		cmocka_unit_test_setup_teardown(test_client_and_sender_keys,
						fresh, done),
		cmocka_unit_test_setup_teardown(test_missing_subjects, fresh,
						done),
		cmocka_unit_test_setup_teardown(test_all_keys_one_call, fresh,
						done),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

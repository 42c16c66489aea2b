/* test-milter-address.c: the From header under header_from =
 * match_sender: the RFC 5322 address-list reader (milter/address.c) over
 * a table of header values as mail carries them, and the milter's
 * verdict on whole messages (one, none or two From headers). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "policy-test.h"
#include "../../milter/address.h"
#include "../../milter/decision.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct list_case {
	const char *value;
	/* the addresses joined by " | ", or NULL when value is refused */
	const char *addresses;
};

static const struct list_case list_cases[] = {
	{ "alice@example.com", "alice@example.com" },
	{ "  alice@example.com  ", "alice@example.com" },
	{ "Alice <alice@example.com>", "alice@example.com" },
	{ "<alice@example.com>", "alice@example.com" },
	{ "\"Smith, Alice\" <alice@example.com>", "alice@example.com" },
	{ "\"Alice <bob@example.org>\" <alice@example.com>",
	  "alice@example.com" },
	{ "\"a\\\"b\\\\c\" <alice@example.com>", "alice@example.com" },
	{ "alice@example.com (Alice, the boss)", "alice@example.com" },
	{ "alice@example.com (Alice (nested (deep)) x)", "alice@example.com" },
	{ "(bob@example.org) alice@example.com", "alice@example.com" },
	{ "alice(c)@(c)example.com(c)", "alice@example.com" },
	{ "alice @ example . com", "alice@example.com" },
	{ "Alice\r\n <alice@example.com>", "alice@example.com" },
	{ "Alice\n\t<alice@example.com>", "alice@example.com" },
	{ "John Q. Public <jqp@example.com>", "jqp@example.com" },
	{ "=?utf-8?q?Alice_Smith?= <alice@example.com>", "alice@example.com" },
	{ "=?utf-8?b?Ym9iQGV4YW1wbGUub3Jn?= <alice@example.com>",
	  "alice@example.com" },
	{ "\xc3\x89lise <elise@example.com>", "elise@example.com" },
	{ "\xc3\xa9lise@example.com", "\xc3\xa9lise@example.com" },
	{ "alice@example.com, bob@example.org",
	  "alice@example.com | bob@example.org" },
	{ "A <a@x.test>, \"B, b\" <b@y.test>,c@z.test",
	  "a@x.test | b@y.test | c@z.test" },
	{ "alice@example.com,, ,bob@example.org",
	  "alice@example.com | bob@example.org" },
	{ "team: a@x.test, B <b@y.test>;", "a@x.test | b@y.test" },
	{ "undisclosed-recipients:;", "" },
	{ "undisclosed-recipients: ;, alice@example.com", "alice@example.com" },
	{ "\"quoted\"@example.com", "quoted@example.com" },
	{ "\"al ice\"@example.com", "al ice@example.com" },
	{ "first.last@example.com", "first.last@example.com" },
	{ "<@relay.test,@other.test:alice@example.com>", "alice@example.com" },
	{ "alice@[192.0.2.1]", "alice@[192.0.2.1]" },
	{ "", "" },
	{ "   ", "" },
	{ "(only a comment)", "" },
	/* refused */
	{ "Alice", NULL },
	{ "Alice Smith", NULL },
	{ "alice", NULL },
	{ "alice@", NULL },
	{ "@example.com", NULL },
	{ "alice@example.com bob@example.org", NULL },
	{ "alice@example.com <bob@example.org>", NULL },
	{ "john doe@example.com", NULL },
	{ "Alice <alice@example.com", NULL },
	{ "Alice <>", NULL },
	{ "<alice>", NULL },
	{ "\"unclosed <alice@example.com>", NULL },
	{ "alice@example.com (unclosed", NULL },
	{ "alice@example.com)", NULL },
	{ "alice@[192.0.2.1", NULL },
	{ "team: a@x.test", NULL },
	{ "team: inner: a@x.test;;", NULL },
	{ ": a@x.test;", NULL },
	{ "a@x.test;", NULL },
	{ "alice\x01@example.com", NULL },
	{ "alice@example.com\x7f", NULL },
	{ "al\\ice@example.com", NULL },
	{ "<@relay.test alice@example.com>", NULL },
	/* no control character or line break inside an address, quoted or
	   escaped (found by fuzz-from-header) */
	{ "\"al\\\nice\"@example.com", NULL },
	{ "\"al\x01" "ice\"@example.com", NULL },
	{ "alice@[192.0.2.1\\\n]", NULL },
	{ "alice@[192.0.2.\x7f" "1]", NULL },
	{ "\"al\\ ice\"@example.com", "al ice@example.com" },
	{ "\"al\r\n ice\"@example.com", "al ice@example.com" },
};

struct collect {
	char buf[4096];
};

static void collect(void *ctx, const char *address)
{
	struct collect *c = ctx;
	size_t len = strlen(c->buf);

	snprintf(c->buf + len, sizeof(c->buf) - len, "%s%s",
		 len > 0 ? " | " : "", address);
}

static void test_address_lists(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(list_cases); i++) {
		const struct list_case *t = &list_cases[i];
		struct collect c = { "" };
		const char *error = NULL;
		int n = address_list_parse(t->value, collect, &c, &error);

		if (t->addresses == NULL ? n >= 0 :
		    n < 0 || strcmp(c.buf, t->addresses) != 0) {
			print_message("[%s]: got %d [%s] %s\n", t->value, n,
				      c.buf, n < 0 ? error : "");
			failed++;
		}
		if (n < 0 && (error == NULL || error[0] == '\0')) {
			print_message("[%s]: no error text\n", t->value);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* Long and deep values: linear, no overflow, a too long address is an
   error (it could never be a login anyway). */
static void test_address_limits(void **state)
{
	static char value[200000];
	struct collect c = { "" };
	const char *error;
	int n;

	(void)state;
	/* 319 bytes fit, 320 do not */
	memset(value, 'a', 307);
	strcpy(value + 307, "@example.com");
	assert_int_equal(strlen(value), ADDRESS_MAX - 1);
	assert_int_equal(address_list_parse(value, collect, &c, &error), 1);
	memmove(value + 1, value, strlen(value) + 1);
	assert_int_equal(address_list_parse(value, collect, &c, &error), -1);
	assert_string_equal(error, "an address is too long");
	/* a display name may be long */
	memset(value, 'n', 100000);
	strcpy(value + 100000, " <alice@example.com>");
	c.buf[0] = '\0';
	assert_int_equal(address_list_parse(value, collect, &c, &error), 1);
	assert_string_equal(c.buf, "alice@example.com");
	/* 50,000 nested comments */
	memset(value, '(', 50000);
	memset(value + 50000, ')', 50000);
	strcpy(value + 100000, "a@b.test");
	assert_int_equal(address_list_parse(value, collect, &c, &error), 1);
	value[99999] = ' ';
	assert_int_equal(address_list_parse(value, collect, &c, &error), -1);
	/* 20,000 addresses */
	value[0] = '\0';
	for (n = 0; n < 20000; n++)
		strcat(value + (size_t)n * 6, "a@b.c,");
	assert_int_equal(address_list_parse(value, collect, &c, &error), 20000);
}

static const char policy_text[] =
	"listener submission {\n"
	"  ports = 587\n"
	"  auth = require\n"
	"  sender = login\n"
	"  header_from = match_sender\n"
	"}\n"
	"listener mapped {\n"
	"  ports = 2587\n"
	"  auth = optional\n"
	"  sender = map\n"
	"  sender_map = file.map\n"
	"  header_from = match_sender\n"
	"}\n"
	"listener loose {\n"
	"  ports = 2588\n"
	"  sender = login\n"
	"}\n";

static struct mp_policy *policy;

/* The policy and its sender_map in a directory of their own. */
static int setup(void **state)
{
	char dir[64];

	(void)state;
	if (policy_test_mkdtemp(dir, "test-milter-address") < 0)
		return -1;
	policy_test_put(dir, "file.map", "alice@example.com alice@example.com "
			"sales@example.com @example.net\n");
	policy = policy_test_load_path(policy_test_put(dir, "t.conf",
						       policy_text));
	return policy_test_rmtree(dir);
}

static int teardown(void **state)
{
	(void)state;
	mp_policy_unref(&policy);
	return 0;
}

struct message_case {
	const char *listener;
	const char *login;
	/* the From headers' values, up to 3; NULL ends */
	const char *from[3];
	const char *rule;		/* "none" = accepted */
	const char *text;		/* a part of the reply text */
};

static const struct message_case message_cases[] = {
	{ "submission", "alice@example.com", { "alice@example.com" },
	  "none", NULL },
	{ "submission", "alice@example.com",
	  { "Alice Smith <alice+news@EXAMPLE.com>" }, "none", NULL },
	{ "submission", "alice@example.com", { "Bob <bob@example.org>" },
	  "header_from",
	  "From header address <bob@example.org> not owned by "
	  "alice@example.com (listener submission: header_from = "
	  "match_sender: the sender is not the login)" },
	{ "submission", "alice@example.com",
	  { "\"alice@example.com\" <bob@example.org>" }, "header_from",
	  "<bob@example.org>" },
	{ "submission", "alice@example.com",
	  { "alice@example.com, bob@example.org" }, "header_from",
	  "<bob@example.org>" },
	{ "submission", "alice@example.com",
	  { "team: alice@example.com, bob@example.org;" }, "header_from",
	  "<bob@example.org>" },
	{ "submission", "alice@example.com", { "Alice" }, "header_from",
	  "not a valid address list" },
	{ "submission", "alice@example.com", { "undisclosed-recipients:;" },
	  "header_from", "has no address" },
	{ "submission", "alice@example.com", { NULL }, "header_from",
	  "the message has no From header" },
	{ "submission", "alice@example.com",
	  { "alice@example.com", "alice@example.com" }, "header_from",
	  "the message has 2 From headers, one is allowed" },
	/* map: the login's addresses and domains */
	{ "mapped", "alice@example.com",
	  { "Sales <sales@example.com>, x@EXAMPLE.net" }, "none", NULL },
	{ "mapped", "alice@example.com", { "carol@example.com" },
	  "header_from", "not in the login's sender_map entry" },
	{ "mapped", "carol@example.com", { "carol@example.com" },
	  "header_from", "no sender_map entry" },
	/* like the envelope: not checked without a login, nor where the
	   listener does not ask */
	{ "mapped", NULL, { "anyone@anywhere.test" }, "none", NULL },
	{ "mapped", NULL, { NULL }, "none", NULL },
	{ "loose", "alice@example.com", { "bob@example.org" }, "none", NULL },
};

static void test_header_from_verdicts(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(message_cases); i++) {
		const struct message_case *c = &message_cases[i];
		const struct mp_listener *l =
			mp_policy_listener_find(policy, c->listener, 0);
		struct milter_from from;
		struct milter_facts f;
		struct milter_decision d;

		assert_non_null(l);
		memset(&f, 0, sizeof(f));
		memset(&from, 0, sizeof(from));
		f.login = c->login;
		for (size_t h = 0; h < 3 && c->from[h] != NULL; h++) {
			if (milter_checks_header_from(l, &f))
				milter_from_header(policy, l, &f, c->from[h],
						   &from);
		}
		milter_decide_header_from(l, &f, &from, &d);
		if (strcmp(milter_rule_name(d.rule), c->rule) != 0 ||
		    (c->text != NULL && strstr(d.text, c->text) == NULL) ||
		    (d.verdict == MP_VERDICT_ACCEPT) != (c->text == NULL) ||
		    (c->text != NULL && (strcmp(d.rcode, "553") != 0 ||
					 strcmp(d.xcode, "5.7.1") != 0))) {
			print_message("case %zu (%s): rule %s: %s %s %s\n", i,
				      c->from[0] != NULL ? c->from[0] : "-",
				      milter_rule_name(d.rule), d.rcode,
				      d.xcode, d.text);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_lists),
		cmocka_unit_test(test_address_limits),
		cmocka_unit_test(test_header_from_verdicts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test-milter-decision.c: the milter's decisions (milter/decision.c) over
 * a table of listener x session facts x policy, away from libmilter: each
 * row is a policy text, the facts of a session at MAIL (and a recipient
 * count or a real size), and the reply a client must see. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "../../milter/audit.h"
#include "../../milter/decision.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static const char policy_text[] =
	"listener mx {\n"
	"  ports = 25\n"
	"  auth = forbid\n"
	"  max_recipients = 2\n"
	"}\n"
	"listener submission {\n"
	"  ports = 587 26\n"
	"  auth = require\n"
	"  tls = require\n"
	"  min_tls = TLSv1.2\n"
	"  auth_mechanisms = PLAIN LOGIN\n"
	"  sender = login\n"
	"  allowed_clients = 192.0.2.0/24 2001:db8::/32\n"
	"  max_message_size = 1M\n"
	"  rate_login = 2/1h\n"
	"  rate_client_ip = 5/1d\n"
	"}\n"
	"listener domain {\n"
	"  ports = 2525\n"
	"  auth = optional\n"
	"  sender = login_domain\n"
	"  rate_sender = 3/1m\n"
	"}\n"
	"milter {\n"
	"  unknown_listener = tempfail\n"
	"}\n";

static struct mp_policy *policy;

static int setup(void **state)
{
	struct mp_error error;

	(void)state;
	if (mp_policy_load_string(NULL, "test.conf", policy_text,
				  sizeof(policy_text) - 1, &policy,
				  &error) < 0) {
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

struct mail_case {
	const char *name;
	const char *daemon_name;
	const char *port;		/* {daemon_port} as sent */
	const char *client;		/* NULL = local */
	const char *login, *auth_type, *tls, *sender;
	uint64_t size_param;
	/* expected */
	const char *listener;		/* NULL = unknown */
	const char *rule;		/* "none" = accepted */
	const char *codes;		/* "553 5.7.1" or NULL */
};

#define OK_SUB "192.0.2.7", "alice@example.com", "PLAIN", "TLSv1.3"

static const struct mail_case mail_cases[] = {
	/* listener lookup */
	{ "by daemon_name", "submission", "9999", OK_SUB,
	  "alice@example.com", 0, "submission", "none", NULL },
	{ "by port when the name is unknown", "mail.example.net", "26", OK_SUB,
	  "alice@example.com", 0, "submission", "none", NULL },
	{ "name wins over port", "mx", "587", OK_SUB,
	  "alice@example.com", 0, "mx", "auth", "550 5.7.1" },
	{ "no name, no port: unknown_listener", NULL, NULL, OK_SUB,
	  "alice@example.com", 0, NULL, "unknown_listener", "451 4.3.0" },
	{ "non-numeric port", NULL, "25x", OK_SUB,
	  "alice@example.com", 0, NULL, "unknown_listener", "451 4.3.0" },
	{ "port out of range", NULL, "65536", OK_SUB,
	  "alice@example.com", 0, NULL, "unknown_listener", "451 4.3.0" },
	{ "port 0", NULL, "0", OK_SUB,
	  "alice@example.com", 0, NULL, "unknown_listener", "451 4.3.0" },
	{ "empty name and port", "", "", OK_SUB,
	  "alice@example.com", 0, NULL, "unknown_listener", "451 4.3.0" },
	/* auth */
	{ "mx without auth", "mx", "25", "198.51.100.1", NULL, NULL, NULL,
	  "x@remote.test", 0, "mx", "none", NULL },
	{ "mx with auth: forbid", "mx", "25", "198.51.100.1",
	  "alice@example.com", "PLAIN", NULL, "alice@example.com", 0,
	  "mx", "auth", "550 5.7.1" },
	{ "submission without auth: require", "submission", "587",
	  "192.0.2.7", NULL, NULL, "TLSv1.3", "alice@example.com", 0,
	  "submission", "auth", "530 5.7.0" },
	{ "empty login is no login", "submission", "587",
	  "192.0.2.7", "", "", "TLSv1.3", "alice@example.com", 0,
	  "submission", "auth", "530 5.7.0" },
	/* tls */
	{ "no TLS", "submission", "587", "192.0.2.7", "alice@example.com",
	  "PLAIN", NULL, "alice@example.com", 0, "submission", "tls",
	  "530 5.7.0" },
	{ "TLS 1.1 under the floor", "submission", "587", "192.0.2.7",
	  "alice@example.com", "PLAIN", "TLSv1.1", "alice@example.com", 0,
	  "submission", "min_tls", "530 5.7.0" },
	{ "TLS 1.2 at the floor", "submission", "587", "192.0.2.7",
	  "alice@example.com", "PLAIN", "TLSv1.2", "alice@example.com", 0,
	  "submission", "none", NULL },
	{ "garbage TLS version fails the floor", "submission", "587",
	  "192.0.2.7", "alice@example.com", "PLAIN", "SSLv3",
	  "alice@example.com", 0, "submission", "min_tls", "530 5.7.0" },
	/* mechanisms */
	{ "CRAM-MD5 not allowed", "submission", "587", "192.0.2.7",
	  "alice@example.com", "CRAM-MD5", "TLSv1.3", "alice@example.com", 0,
	  "submission", "auth_mechanisms", "534 5.7.9" },
	{ "mechanism case-insensitive", "submission", "587", "192.0.2.7",
	  "alice@example.com", "plain", "TLSv1.3", "alice@example.com", 0,
	  "submission", "none", NULL },
	/* clients */
	{ "client outside allowed_clients", "submission", "587",
	  "198.51.100.1", "alice@example.com", "PLAIN", "TLSv1.3",
	  "alice@example.com", 0, "submission", "allowed_clients",
	  "550 5.7.1" },
	{ "IPv6 client inside", "submission", "587", "2001:db8::5",
	  "alice@example.com", "PLAIN", "TLSv1.3", "alice@example.com", 0,
	  "submission", "none", NULL },
	{ "local submission (no client) with allowed_clients",
	  "submission", "587", NULL, "alice@example.com", "PLAIN", "TLSv1.3",
	  "alice@example.com", 0, "submission", "allowed_clients",
	  "550 5.7.1" },
	/* sender */
	{ "sender is the login", "submission", "587", OK_SUB,
	  "alice@example.com", 0, "submission", "none", NULL },
	{ "sender domain case", "submission", "587", OK_SUB,
	  "alice@EXAMPLE.com", 0, "submission", "none", NULL },
	{ "plus address of the login", "submission", "587", OK_SUB,
	  "alice+news@example.com", 0, "submission", "none", NULL },
	{ "local part case is exact", "submission", "587", OK_SUB,
	  "Alice@example.com", 0, "submission", "sender", "553 5.7.1" },
	{ "another user", "submission", "587", OK_SUB,
	  "carol@example.com", 0, "submission", "sender", "553 5.7.1" },
	{ "prefix of the login", "submission", "587", OK_SUB,
	  "alic@example.com", 0, "submission", "sender", "553 5.7.1" },
	{ "login as a prefix", "submission", "587", OK_SUB,
	  "alicex@example.com", 0, "submission", "sender", "553 5.7.1" },
	{ "plus on another user", "submission", "587", OK_SUB,
	  "alic+e@example.com", 0, "submission", "sender", "553 5.7.1" },
	{ "null sender", "submission", "587", OK_SUB,
	  "", 0, "submission", "sender", "553 5.7.1" },
	{ "address without domain", "submission", "587", OK_SUB,
	  "alice", 0, "submission", "sender", "553 5.7.1" },
	{ "two @", "submission", "587", OK_SUB,
	  "alice@example.com@evil.test", 0, "submission", "sender",
	  "553 5.7.1" },
	/* Postfix queues the address its RFC 822 reader finds in MAIL
	   FROM, not the text after the last '@' */
	{ "a group around another address", "submission", "587", OK_SUB,
	  "alice+x:bob@evil.example;(@example.com", 0, "submission",
	  "sender", "553 5.7.1" },
	{ "an unclosed comment", "submission", "587", OK_SUB,
	  "alice+x@evil.example(@example.com", 0, "submission", "sender",
	  "553 5.7.1" },
	{ "login_domain: a group around another address", "domain", "2525",
	  "198.51.100.1", "alice@example.com", "PLAIN", NULL,
	  "x:ceo@bank.example;(@example.com", 0, "domain", "sender",
	  "553 5.7.1" },
	{ "login_domain: an unclosed quote", "domain", "2525",
	  "198.51.100.1", "alice@example.com", "PLAIN", NULL,
	  "ceo@bank.example\"@example.com", 0, "domain", "sender",
	  "553 5.7.1" },
	{ "login_domain: a source route", "domain", "2525", "198.51.100.1",
	  "alice@example.com", "PLAIN", NULL, "@relay.example:x@example.com",
	  0, "domain", "sender", "553 5.7.1" },
	{ "login_domain: a blank", "domain", "2525", "198.51.100.1",
	  "alice@example.com", "PLAIN", NULL, "x y@example.com", 0, "domain",
	  "sender", "553 5.7.1" },
	{ "cut absurd value", "submission", "587", OK_SUB,
	  "?", 0, "submission", "sender", "553 5.7.1" },
	{ "login_domain: same domain", "domain", "2525", "198.51.100.1",
	  "alice@example.com", "PLAIN", NULL, "carol@Example.COM", 0,
	  "domain", "none", NULL },
	{ "login_domain: other domain", "domain", "2525", "198.51.100.1",
	  "alice@example.com", "PLAIN", NULL, "carol@example.org", 0,
	  "domain", "sender", "553 5.7.1" },
	{ "login_domain: subdomain is another domain", "domain", "2525",
	  "198.51.100.1", "alice@example.com", "PLAIN", NULL,
	  "x@sub.example.com", 0, "domain", "sender", "553 5.7.1" },
	{ "no login, auth optional: sender not checked", "domain", "2525",
	  "198.51.100.1", NULL, NULL, NULL, "x@anything.test", 0,
	  "domain", "none", NULL },
	/* SIZE= */
	{ "SIZE at the limit", "submission", "587", OK_SUB,
	  "alice@example.com", 1048576, "submission", "none", NULL },
	{ "SIZE over the limit", "submission", "587", OK_SUB,
	  "alice@example.com", 1048577, "submission", "max_message_size",
	  "552 5.3.4" },
};

static void test_mail_table(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(mail_cases); i++) {
		const struct mail_case *c = &mail_cases[i];
		struct milter_facts f;
		struct milter_decision d;
		const struct mp_listener *l;
		const char *error;
		char codes[16];

		memset(&f, 0, sizeof(f));
		f.daemon_name = c->daemon_name;
		f.port = milter_parse_port(c->port);
		f.client_known = c->client != NULL &&
			mp_addr_parse(c->client, &f.client, &error) == 0;
		f.login = c->login;
		f.auth_type = c->auth_type;
		f.tls_version = c->tls;
		f.sender = c->sender;
		f.size_param = c->size_param;
		l = milter_listener(policy, &f);
		if (l == NULL)
			milter_decide_unknown(policy, &f, &d);
		else
			milter_decide_mail(policy, l, &f, &d);
		snprintf(codes, sizeof(codes), "%s %s", d.rcode, d.xcode);
		if ((l == NULL) != (c->listener == NULL) ||
		    (l != NULL && strcmp(l->label, c->listener) != 0) ||
		    strcmp(milter_rule_name(d.rule), c->rule) != 0 ||
		    (c->codes == NULL) != (d.verdict == MP_VERDICT_ACCEPT) ||
		    (c->codes != NULL && strcmp(codes, c->codes) != 0)) {
			print_message("\"%s\": listener %s rule %s codes %s "
				      "text %s\n", c->name,
				      l != NULL ? l->label : "(none)",
				      milter_rule_name(d.rule), codes, d.text);
			failed++;
		}
		/* every refusal names its listener and rule */
		if (d.verdict != MP_VERDICT_ACCEPT && l != NULL &&
		    (strstr(d.text, l->label) == NULL ||
		     strstr(d.text, milter_rule_name(d.rule)) == NULL)) {
			print_message("\"%s\": text lacks listener or rule: "
				      "%s\n", c->name, d.text);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* Client-controlled values in a reply text: no CR/LF (no smuggled reply
   lines), no control bytes; the rest of the text stays. */
static void test_text_is_one_printable_line(void **state)
{
	static const char *const hostile[] = {
		"carol@example.com\r\n250 2.0.0 Ok", "x\ty@example.com",
		"a\x01\x7f\x1b[31m@example.com",
	};
	const struct mp_listener *l;
	struct milter_facts f;
	struct milter_decision d;
	const char *error;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.daemon_name = "submission";
	f.client_known = mp_addr_parse("192.0.2.1", &f.client, &error) == 0;
	f.login = "alice@example.com";
	f.auth_type = "PLAIN";
	f.tls_version = "TLSv1.3";
	l = milter_listener(policy, &f);
	assert_non_null(l);
	for (size_t i = 0; i < N_ELEMENTS(hostile); i++) {
		f.sender = hostile[i];
		milter_decide_mail(policy, l, &f, &d);
		assert_int_equal(d.rule, MILTER_RULE_SENDER);
		for (const char *p = d.text; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				fail_msg("control byte in \"%s\"", d.text);
		}
		assert_non_null(strstr(d.text, "not owned by alice@example.com"));
	}
	f.sender = hostile[0];
	milter_decide_mail(policy, l, &f, &d);
	assert_non_null(strstr(d.text, "<carol@example.com??250 2.0.0 Ok>"));
	/* and a TLS version with a line break */
	f.sender = "alice@example.com";
	f.tls_version = "TLSv1\r\n250 Ok";
	milter_decide_mail(policy, l, &f, &d);
	assert_int_equal(d.rule, MILTER_RULE_MIN_TLS);
	assert_null(strpbrk(d.text, "\r\n"));
}

/* An unknown listener's reply says what the milter saw, so the admin
   knows which label or port a listener needs. */
static void test_unknown_names_what_it_saw(void **state)
{
	struct milter_facts f;
	struct milter_decision d;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.daemon_name = "mail.example.net";	/* Postfix's default name */
	milter_decide_unknown(policy, &f, &d);
	assert_string_equal(d.text, "no mail policy for this port (port "
			    "unknown, daemon name mail.example.net): "
			    "unknown_listener = tempfail");
	f.daemon_name = NULL;
	f.port = 2526;
	milter_decide_unknown(policy, &f, &d);
	assert_string_equal(d.text, "no mail policy for this port (port 2526): "
			    "unknown_listener = tempfail");
}

static void test_rcpt_and_size(void **state)
{
	const struct mp_listener *mx = mp_policy_listener_find(policy, "mx", 0);
	const struct mp_listener *sub =
		mp_policy_listener_find(policy, "submission", 0);
	const struct mp_listener *dom =
		mp_policy_listener_find(policy, "domain", 0);
	struct milter_decision d;

	(void)state;
	milter_decide_rcpt(mx, 1, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
	milter_decide_rcpt(mx, 2, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
	milter_decide_rcpt(mx, 3, &d);
	assert_int_equal(d.verdict, MP_VERDICT_TEMPFAIL);
	assert_string_equal(d.rcode, "452");
	assert_string_equal(d.xcode, "4.5.3");
	/* no max_recipients: 1,000,000 is fine */
	milter_decide_rcpt(dom, 1000000, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
	/* local submission: all recipients at the end, refused for good */
	milter_decide_recipients(mx, 2, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
	milter_decide_recipients(mx, 3, &d);
	assert_int_equal(d.verdict, MP_VERDICT_REJECT);
	assert_int_equal(d.rule, MILTER_RULE_MAX_RECIPIENTS);
	assert_string_equal(d.rcode, "550");
	assert_string_equal(d.xcode, "5.5.3");
	assert_string_equal(d.text, "Too many recipients: 3, at most 2 per "
			    "message (listener mx: max_recipients)");
	milter_decide_recipients(dom, 1000000, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);

	milter_decide_size(sub, 0, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
	milter_decide_size(sub, 1048576, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
	milter_decide_size(sub, 1048577, &d);
	assert_int_equal(d.verdict, MP_VERDICT_REJECT);
	assert_string_equal(d.rcode, "552");
	assert_string_equal(d.xcode, "5.3.4");
	milter_decide_size(mx, UINT64_MAX, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
}

static void test_rate_items(void **state)
{
	const struct mp_listener *sub =
		mp_policy_listener_find(policy, "submission", 0);
	const struct mp_listener *dom =
		mp_policy_listener_find(policy, "domain", 0);
	struct milter_rate_batch b;
	struct milter_facts f;
	struct milter_decision d;
	const char *error;
	size_t n;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.login = "Alice@Example.com";
	f.sender = "alice@example.com";
	f.client_known = mp_addr_parse("2001:db8:1:2:3:4:5:6", &f.client,
				       &error) == 0;
	n = milter_rate_batch(policy, sub, &f, 1, &b);
	assert_int_equal(n, 2);
	/* a login's counter is every listener's: no label in it */
	assert_string_equal(b.keys[0], "login/1h/alice@example.com");
	assert_int_equal(b.key[0], MP_LIMIT_LOGIN);
	assert_string_equal(b.value[0], "alice@example.com");
	/* IPv6 grouped by the built-in /64, per listener */
	assert_string_equal(b.keys[1], "submission/ip/1d/2001:db8:1:2::/64");
	assert_string_equal(b.value[1], "2001:db8:1:2::/64");
	assert_int_equal(b.items[1].rate.count, 5);
	assert_int_equal(b.items[1].rate.window_secs, 86400);
	assert_int_equal(b.items[1].cost, 1);
	/* no login: no login item; IPv4 as is */
	f.login = NULL;
	assert_int_equal(mp_addr_parse("192.0.2.9", &f.client, &error), 0);
	n = milter_rate_batch(policy, sub, &f, 1, &b);
	assert_int_equal(n, 1);
	assert_string_equal(b.keys[0], "submission/ip/1d/192.0.2.9");
	n = milter_rate_batch(policy, dom, &f, 1, &b);
	assert_int_equal(n, 1);
	assert_string_equal(b.keys[0], "domain/sender/1m/alice@example.com");

	/* the decision after a check */
	b.items[0].status = MP_RATE_LIMITED;
	b.items[0].result.retry_after_ms = 1500;
	milter_decide_rate(dom, MP_RATE_LIMITED, &b, MP_VERDICT_ACCEPT, &d);
	assert_int_equal(d.verdict, MP_VERDICT_TEMPFAIL);
	assert_false(d.hold);
	assert_string_equal(d.rcode, "450");
	assert_string_equal(d.xcode, "4.7.1");
	assert_int_equal(d.rule, MILTER_RULE_RATE_SENDER);
	assert_string_equal(milter_decision_word(&d), "tempfail");
	assert_non_null(strstr(d.text, "try again in 2 s"));
	assert_non_null(strstr(d.text, "rate_sender = 3/1m"));
	milter_decide_rate(dom, MP_RATE_FAILED, &b, MP_VERDICT_ACCEPT, &d);
	assert_int_equal(d.verdict, MP_VERDICT_ACCEPT);
	milter_decide_rate(dom, MP_RATE_FAILED, &b, MP_VERDICT_TEMPFAIL, &d);
	assert_int_equal(d.verdict, MP_VERDICT_TEMPFAIL);
	assert_string_equal(d.rcode, "451");
	assert_int_equal(d.rule, MILTER_RULE_RATE_STORE);
}

/* A long listener label (a host name of 253 bytes is a valid
   {daemon_name}) with a sender of the longest length a session keeps:
   the key must still be counted, never skipped, and stay distinct per
   label and per sender. */
static void test_rate_item_long_label(void **state)
{
	char text[1024], label[254], label2[254], sender[MILTER_VALUE_MAX];
	struct mp_policy *p = NULL, *p2 = NULL;
	const struct mp_listener *l, *l2;
	struct milter_rate_batch b, b2;
	struct milter_facts f;
	struct mp_error error;

	(void)state;
	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	for (size_t i = 1; i < sizeof(label) - 1; i += 4)
		label[i] = '.';
	memcpy(label2, label, sizeof(label));
	label2[0] = 'b';
	memset(sender, 'x', sizeof(sender) - 1);
	sender[sizeof(sender) - 1] = '\0';
	memcpy(sender + sizeof(sender) - 13, "@example.com", 12);
	snprintf(text, sizeof(text), "listener %s {\n  ports = 25\n"
		 "  rate_sender = 10/1h 100/1d\n}\n", label);
	assert_int_equal(mp_policy_load_string(NULL, "long.conf", text,
					       strlen(text), &p, &error), 0);
	snprintf(text, sizeof(text), "listener %s {\n  ports = 25\n"
		 "  rate_sender = 10/1h 100/1d\n}\n", label2);
	assert_int_equal(mp_policy_load_string(NULL, "long.conf", text,
					       strlen(text), &p2, &error), 0);
	l = mp_policy_listener_find(p, label, 0);
	l2 = mp_policy_listener_find(p2, label2, 0);
	assert_non_null(l);
	assert_non_null(l2);
	memset(&f, 0, sizeof(f));
	f.sender = sender;
	assert_int_equal(milter_rate_batch(p, l, &f, 1, &b), 2);
	assert_int_equal(milter_rate_batch(p2, l2, &f, 1, &b2), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(strlen(b.keys[i]) < MILTER_RATE_KEY_MAX);
		/* the whole sender is in the key and is the counted value */
		assert_string_equal(b.value[i], sender);
		assert_non_null(strstr(b.keys[i], sender));
		/* two labels, two counters */
		assert_string_not_equal(b.keys[i], b2.keys[i]);
	}
	assert_string_not_equal(b.keys[0], b.keys[1]);
	/* a short label keeps its readable key */
	assert_int_equal(milter_rate_batch(policy,
		mp_policy_listener_find(policy, "domain", 0), &f, 1, &b), 1);
	assert_true(strncmp(b.keys[0], "domain/sender/1m/", 17) == 0);
	mp_policy_unref(&p);
	mp_policy_unref(&p2);
}

static void test_audit_value(void **state)
{
	struct audit_fields f = {
		"ABC123", "submission", "evil\r\nX-Injected: 1; verdict=accept",
		"TLSv1.3", "reject", "sender", "report",
	};
	char value[AUDIT_VALUE_MAX], hex[65];
	const unsigned char key[] = "k3y";
	char *h;
	size_t len;

	(void)state;
	len = audit_value(&f, NULL, 0, value);
	assert_int_equal(len, strlen(value));
	assert_string_equal(value, "v=1; id=ABC123; listener=submission; "
			    "login=evil??X-Injected:?1??verdict?accept; "
			    "tls=TLSv1.3; verdict=reject; rule=sender; "
			    "mode=report");
	/* signed: the hmac covers every byte before "; hmac=" */
	len = audit_value(&f, key, 3, value);
	h = strstr(value, "; hmac=");
	assert_non_null(h);
	audit_hmac_hex(key, 3, value, (size_t)(h - value), hex);
	assert_string_equal(h + 7, hex);
	/* RFC 4231 test case 2 */
	audit_hmac_hex((const unsigned char *)"Jefe", 4,
		       "what do ya want for nothing?", 28, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
			    "5a003f089d2739839dec58b964ec3843");
	/* a long value is cut, never overflows */
	{
		char big[5000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		f.login = big;
		f.listener = big;
		f.queue_id = big;
		len = audit_value(&f, key, 3, value);
		assert_true(len < AUDIT_VALUE_MAX);
		/* mailpolicy-milter(8), AUDIT HEADER: each value is cut at
		   128 bytes */
		f.listener = "submission";
		f.queue_id = "ABC123";
		(void)audit_value(&f, NULL, 0, value);
		h = strstr(value, "; login=");
		assert_non_null(h);
		assert_int_equal(strcspn(h + 8, ";"), 128);
		/* 128 bytes pass whole */
		big[128] = '\0';
		(void)audit_value(&f, NULL, 0, value);
		assert_int_equal(strcspn(strstr(value, "; login=") + 8, ";"), 128);
	}
	/* and the space, '"' and '\\' become '?' too */
	f.login = "a \"b\\c\x7f\xc3\xa9";
	(void)audit_value(&f, NULL, 0, value);
	assert_non_null(strstr(value, "; login=a??b?c???; "));
}

static void test_parse_port(void **state)
{
	(void)state;
	assert_int_equal(milter_parse_port("587"), 587);
	assert_int_equal(milter_parse_port("1"), 1);
	assert_int_equal(milter_parse_port("65535"), 65535);
	assert_int_equal(milter_parse_port("65536"), 0);
	assert_int_equal(milter_parse_port("0"), 0);
	assert_int_equal(milter_parse_port("-1"), 0);
	assert_int_equal(milter_parse_port(" 25"), 0);
	assert_int_equal(milter_parse_port("000025"), 0);
	assert_int_equal(milter_parse_port(""), 0);
	assert_int_equal(milter_parse_port(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_table),
		cmocka_unit_test(test_text_is_one_printable_line),
		cmocka_unit_test(test_unknown_names_what_it_saw),
		cmocka_unit_test(test_rcpt_and_size),
		cmocka_unit_test(test_rate_items),
		cmocka_unit_test(test_rate_item_long_label),
		cmocka_unit_test(test_audit_value),
		cmocka_unit_test(test_parse_port),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test-policy-include.c: files the policy reads besides itself, and the
 * listener questions they answer (core/policy-listfile.c,
 * policy-sender.c, policy-files.c).
 *
 * List files (`allowed_clients = file:PATH`) and sender maps load with
 * the policy, whole or not at all: a bad word fails the load with the
 * list file's own FILE:LINE:COL and where the policy names it; an empty
 * list is an error (it would allow every client); both are part of the
 * policy's staleness, so a holder reloads when one changes.  Then the
 * sender check of every listener kind, plus-addressing included, and
 * the listener and milter keys the milter needs (IPv6 prefix, Redis
 * URL forms). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "policy-test.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- list files ---- */

static void test_list_files(void **state)
{
	const struct policy_test_dir *f = *state;
	const struct mp_listener *l;
	struct mp_policy *policy;
	char text[600], buf[64];
	const char *conf;

	policy_test_dir_put(f, "clients.cidr",
	    "# customers, generated\n"
	    "192.0.2.0/24\n"
	    "  198.51.100.7   2001:db8::/32 # two on a line\r\n"
	    "\n"
	    "203.0.113.0/25");		/* no newline at the end */
	policy_test_dir_put(f, "ports", "2525 10025\n");
	snprintf(text, sizeof(text),
		 "listener relay {\n"
		 "  ports = 25 file:ports\n"		/* relative: the dir */
		 "  allowed_clients = 127.0.0.1 file:%s/clients.cidr ::1\n"
		 "  auth_mechanisms = file:mechs\n"
		 "}\n", f->dir);
	policy_test_dir_put(f, "mechs", "plain LOGIN\n");
	conf = policy_test_dir_put(f, "mailpolicy.conf", text);
	policy = policy_test_load_path(conf);
	l = mp_policy_listener_find(policy, "relay", 0);
	assert_int_equal(l->port_count, 3);
	assert_ptr_equal(mp_policy_listener_find(policy, NULL, 10025), l);
	assert_int_equal(l->allowed_client_count, 6);
	mp_addr_format(&l->allowed_clients[0].addr, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1");
	mp_addr_format(&l->allowed_clients[3].addr, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::");
	assert_int_equal(l->allowed_clients[4].prefix, 25);
	assert_int_equal(l->allowed_clients[5].addr.family, 6);
	assert_int_equal(l->auth_mechanism_count, 2);
	assert_string_equal(l->auth_mechanisms[0], "PLAIN");
	assert_false(mp_policy_is_stale(policy));

	/* a list file is part of staleness */
	policy_test_dir_put(f, "clients.cidr", "192.0.2.0/24\n");
	assert_true(mp_policy_is_stale(policy));
	mp_policy_unref(&policy);
}

static void test_list_file_errors(void **state)
{
	const struct policy_test_dir *f = *state;
	char expected[600], text[400];
	const char *conf;

	/* a bad word: the list file's place, and where it is named */
	policy_test_dir_put(f, "bad.cidr", "192.0.2.0/24\n# ok\n  10.0.0.300\n");
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n"
		   "  allowed_clients = file:bad.cidr\n}\n");
	snprintf(expected, sizeof(expected), "%s/bad.cidr:3:3: allowed_clients "
		 "\"10.0.0.300\": invalid IP address (named at %s:2)", f->dir,
		 conf);
	policy_test_load_path_fails(conf, expected);

	/* missing */
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n"
		   "  allowed_clients = 10.0.0.0/8 file:none.cidr\n}\n");
	snprintf(expected, sizeof(expected), "%s/none.cidr: cannot open: No "
		 "such file or directory (named at %s:2)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);

	/* empty: would allow every client */
	policy_test_dir_put(f, "empty.cidr", "# nothing yet\n\n");
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n"
		   "  allowed_clients = file:empty.cidr\n}\n");
	snprintf(expected, sizeof(expected), "%s:2:21: allowed_clients "
		 "\"file:empty.cidr\": the list is empty (the file has no "
		 "words)", conf);
	policy_test_load_path_fails(conf, expected);

	/* no nesting, no '#' inside a word, no CR-only lines */
	policy_test_dir_put(f, "nested", "file:other\n");
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n"
		   "  allowed_clients = file:nested\n}\n");
	snprintf(expected, sizeof(expected), "%s/nested:1:1: allowed_clients "
		 "\"file:other\": a list file cannot name another (named at "
		 "%s:2)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);
	policy_test_dir_put(f, "hash", "10.0.0.1#x\n");
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n"
		   "  allowed_clients = file:hash\n}\n");
	snprintf(expected, sizeof(expected), "%s/hash:1:9: '#' inside a word "
		 "(a comment starts after a blank) (named at %s:2)", f->dir,
		 conf);
	policy_test_load_path_fails(conf, expected);
	policy_test_dir_put(f, "mac", "10.0.0.1\r10.0.0.2\r");
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n"
		   "  allowed_clients = file:mac\n}\n");
	snprintf(expected, sizeof(expected), "%s/mac:1:9: carriage return "
		 "without a line feed (save the file with LF line endings) "
		 "(named at %s:2)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);

	/* ports from a file meet the same checks as inline ones */
	policy_test_dir_put(f, "ports", "2525\n25\n");
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n  ports = 25 file:ports\n}\n");
	snprintf(expected, sizeof(expected), "%s/ports:2:1: ports \"25\": "
		 "listed twice (named at %s:2)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);

	/* a directory is no list file */
	snprintf(text, sizeof(text), "listener relay {\n"
		 "  allowed_clients = file:%s\n}\n", f->dir);
	conf = policy_test_dir_put(f, "a.conf", text);
	snprintf(expected, sizeof(expected), "%s: not a regular file (named "
		 "at %s:2)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);
}

/* A list of thousands of networks, the reason list files exist. */
static void test_list_file_large(void **state)
{
	const struct policy_test_dir *f = *state;
	const struct mp_listener *l;
	struct mp_policy *policy;
	char *list;
	size_t len = 0, size = 20000 * 20;
	unsigned int i;

	list = malloc(size);
	assert_non_null(list);
	for (i = 0; i < 20000; i++)
		len += (size_t)snprintf(list + len, size - len,
					"10.%u.%u.0/24\n", i / 256, i % 256);
	policy_test_dir_put(f, "big.cidr", list);
	free(list);
	policy = policy_test_load_path(policy_test_dir_put(f, "a.conf", "listener relay {\n"
			     "  allowed_clients = file:big.cidr\n}\n"));
	l = mp_policy_listener_find(policy, "relay", 0);
	assert_int_equal(l->allowed_client_count, 20000);
	assert_int_equal(l->allowed_clients[19999].addr.bytes[1], 19999 / 256);
	mp_policy_unref(&policy);
}

/* ---- sender maps and the sender check ---- */

static const char sender_map[] =
	"# login            senders\n"
	"alice@example.com  alice@example.com sales@Example.COM\n"
	"bob                bob@example.org @example.net\n"
	"alice@EXAMPLE.com  billing@example.com\n"	/* adds up */
	"carol+x@example.com carol@example.com\n";

struct sender_case {
	const char *listener, *login, *sender;
	bool allowed;
	const char *reason;	/* a part of it, when refused */
};

static const struct sender_case sender_cases[] = {
	/* any */
	{ "open", NULL, "", true, NULL },
	{ "open", "x", "anyone@anywhere.example", true, NULL },
	/* login: the login, or its plus form; domains fold */
	{ "login", "alice@example.com", "alice@example.com", true, NULL },
	{ "login", "alice@example.com", "alice@EXAMPLE.com", true, NULL },
	{ "login", "alice@example.com", "alice+news@example.com", true, NULL },
	{ "login", "alice@example.com", "alice+@example.com", true, NULL },
	{ "login", "alice@example.com", "Alice@example.com", false,
	  "not the login" },
	{ "login", "alice@example.com", "alicex@example.com", false,
	  "not the login" },
	{ "login", "alice@example.com", "ali@example.com", false,
	  "not the login" },
	{ "login", "alice@example.com", "alice@example.org", false,
	  "not the login" },
	{ "login", "alice@example.com", "alice@example.com.evil", false,
	  "not the login" },
	{ "login", "alice@example.com", "alice", false, "not the login" },
	{ "login", "alice", "alice", true, NULL },
	{ "login", "alice", "alice@example.com", false, "not the login" },
	{ "login", "alice@example.com", "", false, "null sender" },
	{ "login", NULL, "alice@example.com", false, "no login" },
	{ "login", "", "alice@example.com", false, "no login" },
	/* login_domain */
	{ "domain", "alice@example.com", "bob@EXAMPLE.COM", true, NULL },
	{ "domain", "alice@example.com", "bob@sub.example.com", false,
	  "domain is not the login's" },
	{ "domain", "alice@example.com", "bob@example.com@evil.example",
	  false, "domain is not the login's" },
	{ "domain", "alice", "alice@example.com", false, "no domain" },
	/* map: listed addresses, their plus forms, whole domains */
	{ "map", "alice@example.com", "alice@example.com", true, NULL },
	{ "map", "alice@Example.Com", "sales@example.com", true, NULL },
	{ "map", "alice@example.com", "sales+q3@example.com", true, NULL },
	{ "map", "alice@example.com", "billing@example.com", true, NULL },
	{ "map", "alice@example.com", "bob@example.org", false,
	  "not in the login's sender_map entry" },
	{ "map", "Alice@example.com", "alice@example.com", false,
	  "no sender_map entry" },
	{ "map", "bob", "bob@example.org", true, NULL },
	{ "map", "bob", "anyone@EXAMPLE.net", true, NULL },
	{ "map", "bob", "anyone@sub.example.net", false, "not in" },
	{ "map", "bob", "bob+x@example.org", true, NULL },
	{ "map", "carol+x@example.com", "carol@example.com", true, NULL },
	{ "map", "carol@example.com", "carol@example.com", false,
	  "no sender_map entry" },
	{ "map", "nobody@example.com", "nobody@example.com", false,
	  "no sender_map entry" },
	{ "map", "bob", "", false, "null sender" },
	{ "map", NULL, "bob@example.org", false, "no login" },
};

static void test_sender_check(void **state)
{
	const struct policy_test_dir *f = *state;
	const struct mp_listener *l;
	struct mp_policy *policy;
	const char *reason;
	size_t i;
	bool allowed;

	policy_test_dir_put(f, "senders", sender_map);
	policy = policy_test_load_path(policy_test_dir_put(f, "a.conf",
		"listener open {\n  ports = 25\n}\n"
		"listener login {\n  sender = login\n}\n"
		"listener domain {\n  sender = login_domain\n}\n"
		"listener map {\n  sender = map\n  sender_map = senders\n}\n"
		"listener map2 {\n  sender = map\n"
		"  sender_map = ./senders\n}\n"));
	for (i = 0; i < N_ELEMENTS(sender_cases); i++) {
		const struct sender_case *c = &sender_cases[i];

		l = mp_policy_listener_find(policy, c->listener, 0);
		assert_non_null(l);
		reason = NULL;
		allowed = mp_listener_sender_allowed(policy, l, c->login,
						     c->sender, &reason);
		if (allowed != c->allowed)
			fail_msg("%s: %s as %s: %s, expected %s (%s)",
				 c->listener, c->login != NULL ? c->login : "-",
				 c->sender, allowed ? "allowed" : "refused",
				 c->allowed ? "allowed" : "refused",
				 reason != NULL ? reason : "");
		if (!allowed && strstr(reason, c->reason) == NULL)
			fail_msg("%s: %s as %s: reason \"%s\"", c->listener,
				 c->login != NULL ? c->login : "-", c->sender,
				 reason);
		/* reason_r may be NULL */
		assert_int_equal(mp_listener_sender_allowed(policy, l, c->login,
							    c->sender, NULL),
				 c->allowed);
	}
	/* a second listener naming the map shares what was loaded */
	l = mp_policy_listener_find(policy, "map2", 0);
	assert_true(mp_listener_sender_allowed(policy, l, "bob", "x@example.net",
					       NULL));
	/* a listener of another policy is refused, not misread */
	{
		struct mp_policy *other = policy_test_load(
			"listener map {\n  sender = login\n}\n");

		assert_false(mp_listener_sender_allowed(
			other, mp_policy_listener_find(policy, "map", 0),
			"bob", "bob@example.org", NULL));
		mp_policy_unref(&other);
	}
	/* the map is part of staleness */
	assert_false(mp_policy_is_stale(policy));
	policy_test_dir_put(f, "senders", "bob  bob@example.org\n");
	assert_true(mp_policy_is_stale(policy));
	mp_policy_unref(&policy);
}

static void test_sender_map_errors(void **state)
{
	const struct policy_test_dir *f = *state;
	char expected[600], conf_path[256];
	const char *conf;
	static const struct {
		const char *map, *error;
	} cases[] = {
		{ "alice@example.com\n",
		  "1:18: missing senders after the login (LOGIN "
		  "ADDRESS|@DOMAIN...)" },
		{ "alice@example.com alice\n",
		  "1:19: sender_map \"alice\": not an address (use local@domain "
		  "or @domain)" },
		{ "alice@example.com @exa_mple..com\n",
		  "1:19: sender_map \"@exa_mple..com\": empty label" },
		{ "alice@example.com a@b\xc3\xbc" "cher.de\n",
		  "1:19: sender_map \"a@b\xc3\xbc" "cher.de\": not ASCII: write "
		  "its A-label (xn--..., as idn2(1) prints it)" },
		{ "a@ x@example.com\n",
		  "1:1: sender_map \"a@\": empty domain part" },
		{ "ok x@example.com\n\xff bad\n", "2:1: invalid UTF-8" },
		/* an @domain run into the next word (a blank lost): it
		   reads as a domain with an '@', which no sender has */
		{ "alice@example.com @example.netbob@example.org\n",
		  "1:19: sender_map \"@example.netbob@example.org\": invalid "
		  "character (use letters, digits, '-', '_' and '.')" },
	};
	size_t i;

	/* policy_test_dir_put() returns one of four rotating buffers: keep a copy */
	snprintf(conf_path, sizeof(conf_path), "%s",
		 policy_test_dir_put(f, "a.conf", "listener s {\n  sender = map\n"
		     "  sender_map = senders\n}\n"));
	conf = conf_path;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		policy_test_dir_put(f, "senders", cases[i].map);
		snprintf(expected, sizeof(expected), "%s/senders:%s (named at "
			 "%s:3)", f->dir, cases[i].error, conf);
		policy_test_load_path_fails(conf, expected);
	}
	/* the map is loaded only once the keys agree */
	conf = policy_test_dir_put(f, "a.conf", "listener s {\n  sender_map = nothing\n}\n");
	snprintf(expected, sizeof(expected), "%s:2:3: sender_map is only used "
		 "with sender = map", conf);
	policy_test_load_path_fails(conf, expected);
	conf = policy_test_dir_put(f, "a.conf", "listener s {\n  sender = map\n"
		   "  sender_map = nothing\n}\n");
	snprintf(expected, sizeof(expected), "%s/nothing: cannot open: No "
		 "such file or directory (named at %s:3)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);
}

/* A file saved by a Windows editor starts with a UTF-8 byte order mark.
   The policy file skips it; so do the files it includes, or the first
   login of a map would silently carry it and never match. */
static void test_byte_order_mark(void **state)
{
	const struct policy_test_dir *f = *state;
	const struct mp_listener *l;
	struct mp_policy *policy;
	struct mp_limits limits;
	char expected[600];
	const char *conf;

	policy_test_dir_put(f, "senders", "\xef\xbb\xbf"
			    "alice@example.com alice@example.com\n"
			    "bob@example.com bob@example.com\n");
	policy_test_dir_put(f, "rates", "\xef\xbb\xbf"
			    "alice@example.com rate_login=10/1h\n");
	policy_test_dir_put(f, "clients", "\xef\xbb\xbf" "192.0.2.0/24\n");
	policy = policy_test_load_path(policy_test_dir_put(f, "a.conf",
		"listener s {\n  sender = map\n  sender_map = senders\n"
		"  rate_login = 5/1h\n  rate_map = rates\n"
		"  allowed_clients = file:clients\n}\n"));
	l = mp_policy_listener_find(policy, "s", 0);
	assert_true(mp_listener_sender_allowed(policy, l, "alice@example.com",
					       "alice@example.com", NULL));
	mp_listener_limits(policy, l, "alice@example.com", &limits);
	assert_int_equal(limits.origin[MP_LIMIT_LOGIN].source,
			 MP_LIMIT_FROM_LOGIN_ENTRY);
	assert_int_equal(limits.limit[MP_LIMIT_LOGIN]->windows[0].count, 10);
	assert_int_equal(l->allowed_client_count, 1);
	assert_int_equal(l->allowed_clients[0].prefix, 24);
	mp_policy_unref(&policy);

	/* columns start after the mark, as in the policy file */
	policy_test_dir_put(f, "clients", "\xef\xbb\xbf" "10.0.0.300\n");
	conf = policy_test_dir_put(f, "a.conf", "listener relay {\n"
		   "  allowed_clients = file:clients\n}\n");
	snprintf(expected, sizeof(expected), "%s/clients:1:1: allowed_clients "
		 "\"10.0.0.300\": invalid IP address (named at %s:2)", f->dir,
		 conf);
	policy_test_load_path_fails(conf, expected);
	{
		/* policy_test_dir_put() stops at a NUL */
		static const char nul[] = "\xef\xbb\xbf" "10.0\0.0.1\n";
		char path[128];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/clients", f->dir);
		fp = fopen(path, "w");
		assert_non_null(fp);
		assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, fp),
				 sizeof(nul) - 1);
		assert_int_equal(fclose(fp), 0);
	}
	snprintf(expected, sizeof(expected), "%s/clients:1:5: NUL byte "
		 "(named at %s:2)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);
}

/* A holder reloads when an included file changes, and a broken map is
   reported once, as a broken policy file is. */
static void test_holder_and_includes(void **state)
{
	const struct policy_test_dir *f = *state;
	struct mp_policy_holder *holder;
	struct mp_policy *p;
	struct mp_error error;
	const char *conf;

	policy_test_dir_put(f, "senders", "bob bob@example.org\n");
	conf = policy_test_dir_put(f, "a.conf", "listener s {\n  sender = map\n"
		   "  sender_map = senders\n}\n");
	assert_int_equal(mp_policy_holder_new(NULL, conf,
					      MP_HOLDER_NONE_ON_ERROR, &holder,
					      &error), 0);
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_LOADED);
	assert_false(mp_listener_sender_allowed(
		p, mp_policy_listener_find(p, "s", 0), "bob", "b@example.net",
		NULL));
	mp_policy_unref(&p);
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_CURRENT);
	mp_policy_unref(&p);

	policy_test_dir_put(f, "senders", "bob bob@example.org @example.net\n");
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_LOADED);
	assert_true(mp_listener_sender_allowed(
		p, mp_policy_listener_find(p, "s", 0), "bob", "b@example.net",
		NULL));
	mp_policy_unref(&p);

	policy_test_dir_put(f, "senders", "bob\n");
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_FAILED);
	assert_null(p);
	assert_non_null(strstr(error.text, "/senders:1:4: missing senders"));
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_FAILED_KNOWN);
	policy_test_dir_put(f, "senders", "bob b@example.org\n");
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_LOADED);
	mp_policy_unref(&p);
	mp_policy_holder_free(&holder);
}

/* ---- keys for the milter ---- */

static void test_ipv6_prefix(void **state)
{
	struct mp_policy *policy = policy_test_load(
		"listener a {\n  rate_client_ip = 10/1m\n}\n"
		"listener b {\n  rate_client_ip = 10/1m\n"
		"  rate_client_ipv6_prefix = 48\n}\n"
		"listener c {\n  rate_client_ip = 10/1m\n"
		"  rate_client_ipv6_prefix = 128\n}\n");
	struct mp_addr addr, net;
	const char *error;
	char buf[64];

	(void)state;
	assert_int_equal(mp_policy_listener_find(policy, "a", 0)->
			 rate_client_ipv6_prefix, 64);
	assert_int_equal(mp_policy_listener_find(policy, "a", 0)->
			 origin[MP_LISTENER_RATE_CLIENT_IPV6_PREFIX].scope,
			 MP_ORIGIN_BUILTIN);
	assert_int_equal(mp_policy_listener_find(policy, "b", 0)->
			 rate_client_ipv6_prefix, 48);
	assert_int_equal(mp_policy_listener_find(policy, "c", 0)->
			 rate_client_ipv6_prefix, 128);
	mp_policy_unref(&policy);

	assert_int_equal(mp_addr_parse("2001:db8:aaaa:bbbb:cccc::1", &addr,
				       &error), 0);
	mp_addr_truncate(&addr, 64, &net);
	mp_addr_format(&net, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:aaaa:bbbb::");
	mp_addr_truncate(&addr, 36, &net);
	mp_addr_format(&net, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:a000::");
	mp_addr_truncate(&addr, 128, &net);
	assert_memory_equal(&net, &addr, sizeof(addr));
	mp_addr_truncate(&addr, 0, &net);
	mp_addr_format(&net, buf, sizeof(buf));
	assert_string_equal(buf, "::");
	/* IPv4: the address itself for any prefix of 32 or more */
	assert_int_equal(mp_addr_parse("192.0.2.77", &addr, &error), 0);
	mp_addr_truncate(&addr, 64, &net);
	assert_memory_equal(&net, &addr, sizeof(addr));
	mp_addr_truncate(&addr, 25, &net);
	mp_addr_format(&net, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.0");
}

static void test_redis_forms(void **state)
{
	static const struct {
		const char *store, *shown, *host, *socket, *password;
		uint16_t port;
		unsigned int db;
	} cases[] = {
		{ "redis://r1", "redis://r1", "r1", NULL, NULL, 6379, 0 },
		{ "redis://:s3cret@r1:6380/2", "redis://:****@r1:6380/2", "r1",
		  NULL, "s3cret", 6380, 2 },
		{ "redis://:p%40ss%25w%3Ard@[2001:db8::1]:7000",
		  "redis://:****@[2001:db8::1]:7000", "2001:db8::1", NULL,
		  "p@ss%w:rd", 7000, 0 },
		{ "redis://:pw:with:colons@10.0.0.1/15",
		  "redis://:****@10.0.0.1/15", "10.0.0.1", NULL,
		  "pw:with:colons", 6379, 15 },
		{ "redis://redis.internal.", "redis://redis.internal.",
		  "redis.internal.", NULL, NULL, 6379, 0 },
		{ "unix:///run/redis/redis-server.sock",
		  "unix:///run/redis/redis-server.sock", NULL,
		  "/run/redis/redis-server.sock", NULL, 6379, 0 },
		{ "\"unix://:pw@/run/redis.sock?db=3\"",
		  "unix://:****@/run/redis.sock?db=3", NULL, "/run/redis.sock",
		  "pw", 6379, 3 },
	};
	const struct mp_milter_settings *m;
	struct mp_policy *policy;
	char text[300];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		snprintf(text, sizeof(text), "milter {\n  rate_store = %s\n}\n",
			 cases[i].store);
		policy = policy_test_load(text);
		m = mp_policy_milter(policy);
		assert_int_equal(m->rate_store, MP_RATE_STORE_REDIS);
		assert_string_equal(m->rate_store_url, cases[i].shown);
#define STR_OR_NULL(got, want) \
	do { if ((want) == NULL) assert_null(got); \
	     else assert_string_equal(got, want); } while (0)
		STR_OR_NULL(m->redis_host, cases[i].host);
		STR_OR_NULL(m->redis_socket, cases[i].socket);
		STR_OR_NULL(m->redis_password, cases[i].password);
		assert_null(m->redis_password_file);
		assert_int_equal(m->redis_port, cases[i].port);
		assert_int_equal(m->redis_db, cases[i].db);
		mp_policy_unref(&policy);
	}
	policy = policy_test_load("milter {\n  rate_store = redis://r1\n"
				  "  redis_password_file = /etc/mp/redis.pass\n"
				  "}\n");
	m = mp_policy_milter(policy);
	assert_null(m->redis_password);
	assert_string_equal(m->redis_password_file, "/etc/mp/redis.pass");
	assert_int_equal(m->origin[MP_MILTER_REDIS_PASSWORD_FILE].line, 3);
	mp_policy_unref(&policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_files,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_list_file_errors,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_list_file_large,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_sender_check,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_sender_map_errors,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_byte_order_mark,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_holder_and_includes,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_redis_forms),
	};

	return cmocka_run_group_tests_name("policy-include", tests, NULL, NULL);
}

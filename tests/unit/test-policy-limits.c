/* test-policy-limits.c: the outbound limits of issue 12 in the policy
 * language (core/policy-limits.c, policy-ratemap.c and the listener and
 * milter keys around them).
 *
 * Several windows per rate key, the recipient and domain keys, a
 * rate_map file of per-login and per-@domain exceptions and the lookup
 * the milter makes per session (login entry > @domain entry > listener,
 * per key, with where each limit came from); the map loads with the
 * policy, whole or not at all, with the map's own MAP:LINE:COL and where
 * the policy names it, and a holder reloads when it changes.  Then
 * over_limit, header_from, add_audit_header and alert_command.  The
 * errors about the policy file itself are rows of test-policy-errors.c. */

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

/* A limit as the file spells it: "100/1h 1000/1d", or "unlimited". */
static const char *spell(const struct mp_limit *limit, char *buf, size_t size)
{
	struct mp_rate_spec none = { 0, 0 };
	size_t i, len = 0;

	if (limit->window_count == 0) {
		mp_units_format_rate(&none, buf, size);
		return buf;
	}
	assert_true(limit->window_count <= MP_LIMIT_MAX_WINDOWS);
	buf[0] = '\0';
	for (i = 0; i < limit->window_count; i++) {
		if (i > 0)
			len += (size_t)snprintf(buf + len, size - len, " ");
		len += mp_units_format_rate(&limit->windows[i], buf + len,
					    size - len);
	}
	return buf;
}

/* ---- several windows, the new keys, in a listener ---- */

struct window_case {
	const char *value;	/* of the key */
	const char *spelled;	/* as the limit reads back */
	uint64_t first_count, last_window;
};

static const struct window_case window_cases[] = {
	{ "200/1h", "200/1h", 200, 3600 },
	{ "100/1h 1000/1d", "100/1h 1000/1d", 100, 86400 },
	/* kept in the order written */
	{ "1000/1d 100/1h", "1000/1d 100/1h", 1000, 3600 },
	/* the limit: four */
	{ "10/1m 100/1h 1000/1d 5000/1w", "10/1m 100/1h 1000/1d 5000/1w", 10,
	  7 * 86400 },
	{ "unlimited", "unlimited", 0, 0 },
	/* the largest count the Redis store takes */
	{ "4503599627370495/1s", "4503599627370495/1s", 4503599627370495ULL, 1 },
};

static void test_listener_windows(void **state)
{
	char text[512], buf[128];
	struct mp_policy *policy;
	const struct mp_listener *l;
	const struct mp_limit *limit;
	size_t i;
	unsigned int k;

	(void)state;
	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		for (i = 0; i < N_ELEMENTS(window_cases); i++) {
			const struct window_case *c = &window_cases[i];

			snprintf(text, sizeof(text),
				 "listener s {\n  auth = require\n  %s = %s\n}\n",
				 mp_limit_key_name(k), c->value);
			policy = policy_test_load(text);
			l = mp_policy_listener_find(policy, "s", 0);
			limit = &l->limits[k];
			assert_string_equal(spell(limit, buf, sizeof(buf)),
					    c->spelled);
			if (c->first_count != 0) {
				assert_int_equal(limit->windows[0].count,
						 c->first_count);
				assert_int_equal(limit->windows[limit->window_count -
							      1].window_secs,
						 c->last_window);
			}
			/* the key's origin: line 3 of the block */
			assert_int_equal(l->origin[MP_LISTENER_RATE_LOGIN + k].scope,
					 MP_ORIGIN_DEFAULT);
			assert_int_equal(l->origin[MP_LISTENER_RATE_LOGIN + k].line,
					 3);
			/* no other key changed */
			for (unsigned int o = 0; o < MP_LIMIT_KEY_COUNT; o++) {
				if (o != k)
					assert_int_equal(l->limits[o].window_count,
							 0);
			}
			mp_policy_unref(&policy);
		}
	}
}

/* The built-in listener keys, and the keys that need a login are fine
   without auth = forbid, the client and sender ones with it. */
static void test_listener_keys(void **state)
{
	struct mp_policy *policy;
	const struct mp_listener *l;

	(void)state;
	policy = policy_test_load("listener s {\n}\n");
	l = mp_policy_listener_find(policy, "s", 0);
	assert_int_equal(l->header_from, MP_HEADER_FROM_ANY);
	assert_int_equal(l->over_limit, MP_OVER_LIMIT_TEMPFAIL);
	assert_true(l->add_audit_header);
	assert_null(l->rate_map);
	for (unsigned int k = 0; k < MP_LIMIT_KEY_COUNT; k++)
		assert_int_equal(l->limits[k].window_count, 0);
	assert_int_equal(l->origin[MP_LISTENER_OVER_LIMIT].scope,
			 MP_ORIGIN_BUILTIN);
	assert_false(mp_listener_has_limits(policy, l));
	mp_policy_unref(&policy);

	policy = policy_test_load(
		"listener mx {\n  auth = forbid\n"
		"  rate_client_ip_recipients = 500/1h\n"
		"  rate_sender_recipients = 100/1h\n"
		"  rate_client_ipv6_prefix = 56\n"
		"  over_limit = reject\n  add_audit_header = no\n}\n"
		"listener sub {\n  sender = login_domain\n"
		"  header_from = match_sender\n  rate_domain = 10/1m\n"
		"  over_limit = hold\n  add_audit_header = yes\n}\n");
	l = mp_policy_listener_find(policy, "mx", 0);
	assert_int_equal(l->limits[MP_LIMIT_CLIENT_IP_RECIPIENTS].windows[0].count,
			 500);
	assert_int_equal(l->rate_client_ipv6_prefix, 56);
	assert_int_equal(l->over_limit, MP_OVER_LIMIT_REJECT);
	assert_false(l->add_audit_header);
	assert_int_equal(l->origin[MP_LISTENER_ADD_AUDIT_HEADER].line, 7);
	assert_true(mp_listener_has_limits(policy, l));
	l = mp_policy_listener_find(policy, "sub", 0);
	assert_int_equal(l->header_from, MP_HEADER_FROM_MATCH_SENDER);
	assert_int_equal(l->over_limit, MP_OVER_LIMIT_HOLD);
	assert_true(l->add_audit_header);
	assert_int_equal(l->origin[MP_LISTENER_ADD_AUDIT_HEADER].line, 14);
	mp_policy_unref(&policy);
}

static void test_key_facts(void **state)
{
	static const struct {
		enum mp_limit_key key;
		enum mp_limit_subject subject;
		bool recipients;
	} keys[] = {
		{ MP_LIMIT_LOGIN, MP_LIMIT_SUBJECT_LOGIN, false },
		{ MP_LIMIT_CLIENT_IP, MP_LIMIT_SUBJECT_CLIENT_IP, false },
		{ MP_LIMIT_SENDER, MP_LIMIT_SUBJECT_SENDER, false },
		{ MP_LIMIT_DOMAIN, MP_LIMIT_SUBJECT_DOMAIN, false },
		{ MP_LIMIT_LOGIN_RECIPIENTS, MP_LIMIT_SUBJECT_LOGIN, true },
		{ MP_LIMIT_CLIENT_IP_RECIPIENTS, MP_LIMIT_SUBJECT_CLIENT_IP,
		  true },
		{ MP_LIMIT_SENDER_RECIPIENTS, MP_LIMIT_SUBJECT_SENDER, true },
		{ MP_LIMIT_DOMAIN_RECIPIENTS, MP_LIMIT_SUBJECT_DOMAIN, true },
	};
	static const struct {
		const char *login, *domain;
	} domains[] = {
		{ "alice@example.com", "example.com" },
		{ "Alice@Example.COM", "Example.COM" },
		{ "a@b@example.org", "example.org" },
		{ "@example.net", "example.net" },
		{ "alice", NULL },
		{ "alice@", NULL },
		{ "", NULL },
		{ NULL, NULL },
	};
	size_t i;

	(void)state;
	assert_int_equal(N_ELEMENTS(keys), MP_LIMIT_KEY_COUNT);
	for (i = 0; i < N_ELEMENTS(keys); i++) {
		assert_int_equal(mp_limit_key_subject(keys[i].key),
				 keys[i].subject);
		assert_int_equal(mp_limit_key_counts_recipients(keys[i].key),
				 keys[i].recipients);
	}
	assert_false(mp_limit_key_counts_recipients(MP_LIMIT_KEY_COUNT));
	/* every key and window of a message fits one rate-store call */
	assert_int_equal(MP_LIMIT_MAX_ITEMS, 32);
	for (i = 0; i < N_ELEMENTS(domains); i++) {
		const char *d = mp_login_domain(domains[i].login);

		if (domains[i].domain == NULL)
			assert_null(d);
		else
			assert_string_equal(d, domains[i].domain);
	}
}

/* ---- rate_map: lookups ---- */

static const char rate_map[] =
	"# login or @domain        limits\n"
	"newsletter@example.com    rate_login=5000/1d "
	"rate_login_recipients=50000/1d\n"
	"@Example.COM              rate_domain=2000/1h 20000/1d "
	"rate_login=300/1h  # a comment\n"
	"\n"
	"relay                     rate_login=unlimited rate_client_ip=unlimited\n"
	"@example.org              rate_domain_recipients=10000/1d\n"
	"ceo@example.org           rate_sender=50/1h rate_sender_recipients=500/1h\n";

/* the expected source of one key: L listener, D @domain entry, U login
   entry, B built-in */
struct lookup_case {
	const char *login;
	size_t windows;		/* mp_listener_limits()'s answer */
	const char *limit[MP_LIMIT_KEY_COUNT];
	const char source[MP_LIMIT_KEY_COUNT + 1];
};

#define UNL "unlimited"
static const struct lookup_case lookup_cases[] = {
	/* the login's entry for its keys, the domain's for the others */
	{ "newsletter@example.com", 5,
	  { "5000/1d", "1000/1d", UNL, "2000/1h 20000/1d",
	    "50000/1d", UNL, UNL, UNL }, "ULBDUBBB" },
	/* the domain compares case-insensitively ... */
	{ "newsletter@EXAMPLE.com", 5,
	  { "5000/1d", "1000/1d", UNL, "2000/1h 20000/1d",
	    "50000/1d", UNL, UNL, UNL }, "ULBDUBBB" },
	/* ... the local part exactly: the domain's entry only */
	{ "Newsletter@example.com", 5,
	  { "300/1h", "1000/1d", UNL, "2000/1h 20000/1d",
	    "1000/1h", UNL, UNL, UNL }, "DLBDLBBB" },
	{ "bob@example.com", 5,
	  { "300/1h", "1000/1d", UNL, "2000/1h 20000/1d",
	    "1000/1h", UNL, UNL, UNL }, "DLBDLBBB" },
	/* an entry's `unlimited` lifts the listener's limit */
	{ "relay", 1,
	  { UNL, UNL, UNL, UNL, "1000/1h", UNL, UNL, UNL }, "UUBBLBBB" },
	{ "ceo@example.org", 7,
	  { "100/1h 1000/1d", "1000/1d", "50/1h", UNL,
	    "1000/1h", UNL, "500/1h", "10000/1d" }, "LLUBLBUD" },
	/* a login with no entry, none at all, no domain */
	{ "carol@example.net", 4,
	  { "100/1h 1000/1d", "1000/1d", UNL, UNL,
	    "1000/1h", UNL, UNL, UNL }, "LLBBLBBB" },
	{ NULL, 4,
	  { "100/1h 1000/1d", "1000/1d", UNL, UNL,
	    "1000/1h", UNL, UNL, UNL }, "LLBBLBBB" },
	{ "", 4,
	  { "100/1h 1000/1d", "1000/1d", UNL, UNL,
	    "1000/1h", UNL, UNL, UNL }, "LLBBLBBB" },
	{ "example.com", 4,
	  { "100/1h 1000/1d", "1000/1d", UNL, UNL,
	    "1000/1h", UNL, UNL, UNL }, "LLBBLBBB" },
	{ "x@", 4,
	  { "100/1h 1000/1d", "1000/1d", UNL, UNL,
	    "1000/1h", UNL, UNL, UNL }, "LLBBLBBB" },
	/* "@example.com" is not a login of example.com's entry ... but its
	   domain part is example.com */
	{ "@example.com", 5,
	  { "300/1h", "1000/1d", UNL, "2000/1h 20000/1d",
	    "1000/1h", UNL, UNL, UNL }, "DLBDLBBB" },
};

static void check_lookup(const struct mp_policy *policy,
			 const struct mp_listener *l, const char *map_path,
			 const struct lookup_case *c)
{
	struct mp_limits limits;
	char buf[128];
	size_t windows;
	unsigned int k;

	windows = mp_listener_limits(policy, l, c->login, &limits);
	if (windows != c->windows)
		fail_msg("%s: %zu windows, wanted %zu", c->login, windows,
			 c->windows);
	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		const struct mp_limit_origin *o = &limits.origin[k];

		assert_non_null(limits.limit[k]);
		if (strcmp(spell(limits.limit[k], buf, sizeof(buf)),
			   c->limit[k]) != 0)
			fail_msg("%s: %s = %s, wanted %s", c->login,
				 mp_limit_key_name(k), buf, c->limit[k]);
		switch (c->source[k]) {
		case 'B':
			assert_int_equal(o->source, MP_LIMIT_FROM_BUILTIN);
			assert_null(o->file);
			assert_int_equal(o->line, 0);
			break;
		case 'L':
			assert_int_equal(o->source, MP_LIMIT_FROM_LISTENER);
			assert_string_equal(o->file, mp_policy_name(policy));
			assert_int_equal(o->line,
				l->origin[MP_LISTENER_RATE_LOGIN + k].line);
			assert_null(o->entry);
			break;
		case 'D':
		case 'U':
			assert_int_equal(o->source, c->source[k] == 'U' ?
					 MP_LIMIT_FROM_LOGIN_ENTRY :
					 MP_LIMIT_FROM_DOMAIN_ENTRY);
			assert_string_equal(o->file, map_path);
			assert_non_null(o->entry);
			assert_int_equal(o->entry[0] == '@', c->source[k] == 'D');
			break;
		default:
			fail();
		}
	}
}

static void test_rate_map_lookup(void **state)
{
	const struct policy_test_dir *f = *state;
	struct mp_policy *policy;
	const struct mp_listener *l;
	struct mp_limits limits;
	char map_path[256], conf[256];
	size_t i;

	snprintf(map_path, sizeof(map_path), "%s", policy_test_dir_put(f, "rates", rate_map));
	snprintf(conf, sizeof(conf), "%s", policy_test_dir_put(f, "a.conf",
		"listener submission {\n  ports = 587\n  auth = require\n"
		"  rate_login = 100/1h 1000/1d\n"
		"  rate_client_ip = 1000/1d\n"
		"  rate_login_recipients = 1000/1h\n"
		"  rate_map = rates\n}\n"));
	policy = policy_test_load_path(conf);
	l = mp_policy_listener_find(policy, NULL, 587);
	/* the relative path starts at the policy file's directory */
	assert_string_equal(l->rate_map, map_path);
	assert_int_equal(l->origin[MP_LISTENER_RATE_MAP].line, 7);
	for (i = 0; i < N_ELEMENTS(lookup_cases); i++)
		check_lookup(policy, l, map_path, &lookup_cases[i]);

	/* where each entry is, as the map writes it (domain folded) */
	mp_listener_limits(policy, l, "newsletter@EXAMPLE.COM", &limits);
	assert_int_equal(limits.origin[MP_LIMIT_LOGIN].line, 2);
	assert_string_equal(limits.origin[MP_LIMIT_LOGIN].entry,
			    "newsletter@example.com");
	assert_int_equal(limits.origin[MP_LIMIT_DOMAIN].line, 3);
	assert_string_equal(limits.origin[MP_LIMIT_DOMAIN].entry,
			    "@example.com");
	assert_int_equal(limits.origin[MP_LIMIT_CLIENT_IP].line, 5);
	mp_listener_limits(policy, l, "relay", &limits);
	assert_int_equal(limits.origin[MP_LIMIT_LOGIN].line, 5);
	assert_string_equal(limits.origin[MP_LIMIT_LOGIN].entry, "relay");
	mp_policy_unref(&policy);
}

/* Two listeners naming one map share it (a path spelled otherwise is
   read again, which changes nothing); a listener without a map ignores
   logins; a listener not of this policy gets its own keys. */
static void test_rate_map_shared(void **state)
{
	const struct policy_test_dir *f = *state;
	struct mp_policy *policy, *other;
	const struct mp_listener *a, *b, *c;
	struct mp_limits la, lb, lc;
	const char *conf;

	policy_test_dir_put(f, "rates", "alice@example.com rate_login=7/1m\n");
	conf = policy_test_dir_put(f, "a.conf",
		   "listener a {\n  rate_map = rates\n  rate_login = 1/1m\n}\n"
		   "listener b {\n  rate_map = rates\n}\n"
		   "listener c {\n  rate_login = 1/1m\n}\n"
		   "listener d {\n  rate_map = ./rates\n}\n");
	policy = policy_test_load_path(conf);
	a = mp_policy_listener_find(policy, "a", 0);
	b = mp_policy_listener_find(policy, "b", 0);
	c = mp_policy_listener_find(policy, "c", 0);
	assert_int_equal(mp_listener_limits(policy, a, "alice@example.com",
					    &la), 1);
	assert_int_equal(mp_listener_limits(policy, b, "alice@example.com",
					    &lb), 1);
	assert_ptr_equal(la.limit[MP_LIMIT_LOGIN], lb.limit[MP_LIMIT_LOGIN]);
	assert_int_equal(la.limit[MP_LIMIT_LOGIN]->windows[0].count, 7);
	assert_int_equal(mp_listener_limits(policy, b, "bob@example.com",
					    &lb), 0);
	assert_int_equal(lb.origin[MP_LIMIT_LOGIN].source,
			 MP_LIMIT_FROM_BUILTIN);
	mp_listener_limits(policy, c, "alice@example.com", &lc);
	assert_int_equal(lc.limit[MP_LIMIT_LOGIN]->windows[0].count, 1);
	assert_int_equal(lc.origin[MP_LIMIT_LOGIN].source,
			 MP_LIMIT_FROM_LISTENER);
	assert_true(mp_listener_has_limits(policy, b));
	assert_int_equal(mp_listener_limits(policy,
					    mp_policy_listener_find(policy, "d",
								    0),
					    "alice@EXAMPLE.com", &lb), 1);
	assert_int_equal(lb.limit[MP_LIMIT_LOGIN]->windows[0].count, 7);

	/* a's listener asked of another policy: no map there */
	other = policy_test_load("listener x {\n}\n");
	mp_listener_limits(other, a, "alice@example.com", &la);
	assert_int_equal(la.limit[MP_LIMIT_LOGIN]->windows[0].count, 1);
	assert_int_equal(la.origin[MP_LIMIT_LOGIN].source,
			 MP_LIMIT_FROM_LISTENER);
	mp_policy_unref(&other);
	mp_policy_unref(&policy);
}

/* The keys that need a limit count the map's. */
static void test_rate_map_checks(void **state)
{
	const struct policy_test_dir *f = *state;
	struct mp_policy *policy;
	char expected[600];
	const char *conf;

	/* a map's rate_client_ip_recipients is what the prefix groups by;
	   over_limit has the map's limits to act on */
	policy_test_dir_put(f, "rates", "@example.com rate_client_ip_recipients=100/1h\n");
	conf = policy_test_dir_put(f, "a.conf", "listener a {\n  rate_map = rates\n"
		   "  rate_client_ipv6_prefix = 48\n  over_limit = hold\n}\n");
	policy = policy_test_load_path(conf);
	assert_true(mp_listener_has_limits(policy,
			mp_policy_listener_find(policy, "a", 0)));
	mp_policy_unref(&policy);

	/* a map that only lifts limits sets none */
	policy_test_dir_put(f, "rates", "relay rate_login=unlimited rate_client_ip=unlimited\n");
	policy = policy_test_load_path(policy_test_dir_put(f, "b.conf", "listener a {\n  rate_map = rates\n"
			     "}\n"));
	assert_false(mp_listener_has_limits(policy,
			mp_policy_listener_find(policy, "a", 0)));
	mp_policy_unref(&policy);
	conf = policy_test_dir_put(f, "a.conf", "listener a {\n  rate_map = rates\n"
		   "  rate_client_ipv6_prefix = 48\n}\n");
	snprintf(expected, sizeof(expected), "%s:3:3: rate_client_ipv6_prefix "
		 "is only used with rate_client_ip or rate_client_ip_recipients",
		 conf);
	policy_test_load_path_fails(conf, expected);
	conf = policy_test_dir_put(f, "a.conf", "listener a {\n  rate_map = rates\n"
		   "  over_limit = reject\n}\n");
	snprintf(expected, sizeof(expected), "%s:3:3: over_limit is only used "
		 "with rate limits (a rate_* key, or a rate_map that sets one)",
		 conf);
	policy_test_load_path_fails(conf, expected);

	/* an empty map is valid: no exceptions yet */
	policy_test_dir_put(f, "rates", "# none yet\n");
	policy = policy_test_load_path(policy_test_dir_put(f, "a.conf", "listener a {\n  rate_map = rates\n"
			     "  rate_login = 5/1m\n}\n"));
	mp_policy_unref(&policy);

	/* the map is read only once the keys agree */
	conf = policy_test_dir_put(f, "a.conf", "listener a {\n  rate_map = missing\n}\n");
	snprintf(expected, sizeof(expected), "%s/missing: cannot open: No "
		 "such file or directory (named at %s:2)", f->dir, conf);
	policy_test_load_path_fails(conf, expected);
}

/* ---- rate_map: errors, with the map's place and the policy's ---- */

static void test_rate_map_errors(void **state)
{
	const struct policy_test_dir *f = *state;
	static const struct {
		const char *map, *error;
	} cases[] = {
		{ "alice@example.com\n",
		  "1:18: missing limits after the entry (LOGIN|@DOMAIN "
		  "KEY=RATE...)" },
		{ "alice@example.com 100/1h\n",
		  "1:19: rate_map \"100/1h\": expected KEY=RATE (e.g. "
		  "rate_login=100/1h)" },
		{ "alice@example.com rate_logn=1/1h\n",
		  "1:19: rate_map \"rate_logn\": not a rate key (use rate_login, "
		  "rate_client_ip, rate_sender, rate_domain or their _recipients "
		  "forms)" },
		{ "alice@example.com max_recipients=5\n",
		  "1:19: rate_map \"max_recipients\": not a rate key (use "
		  "rate_login, rate_client_ip, rate_sender, rate_domain or their "
		  "_recipients forms)" },
		{ "alice@example.com =1/1h\n",
		  "1:19: rate_map \"=1/1h\": missing the key before '='" },
		{ "alice@example.com rate_login=\n",
		  "1:19: rate_map \"rate_login=\": missing the rate after '=' "
		  "(e.g. rate_login=100/1h)" },
		{ "alice@example.com rate_login=0/1h\n",
		  "1:30: rate_login \"0/1h\": invalid rate: count must be at "
		  "least 1" },
		{ "alice@example.com rate_sender=5/1h rate_login=1/1h 1/1d\n",
		  "1:47: rate_login \"1/1h\": never trips before the longer 1d "
		  "window 1/1d (a shorter window needs a smaller count)" },
		{ "alice@example.com rate_login=1/1h 2/60m\n",
		  "1:35: rate_login \"2/60m\": a second 1h window (first 1/1h; "
		  "give each window once)" },
		{ "alice@example.com rate_login=1/1m 2/1h 3/1d 4/1w 5/2w\n",
		  "1:50: rate_login \"5/2w\": too many windows (at most 4 per "
		  "key)" },
		{ "bob rate_login=1/1h unlimited\n",
		  "1:21: rate_login \"unlimited\": unlimited stands alone (it "
		  "cannot go with windows)" },
		{ "alice@example.com rate_login=1/1h rate_login=2/1d\n",
		  "1:35: rate_map \"rate_login\": set twice in this entry (first "
		  "at column 19)" },
		{ "alice@example.com rate_domain=5/1h\n",
		  "1:19: rate_map \"rate_domain\": rate_domain is the domain's: "
		  "set it on an @domain entry" },
		{ "bob rate_domain_recipients=5/1h\n",
		  "1:5: rate_map \"rate_domain_recipients\": "
		  "rate_domain_recipients is the domain's: set it on an @domain "
		  "entry" },
		{ "alice@example.com rate_login=1/1h\n"
		  "alice@EXAMPLE.com rate_sender=1/1h\n",
		  "2:1: rate_map \"alice@EXAMPLE.com\": listed twice (first at "
		  "line 1)" },
		{ "@example.com rate_domain=1/1h\n\n"
		  "@Example.Com rate_login=1/1h\n",
		  "3:1: rate_map \"@Example.Com\": listed twice (first at line "
		  "1)" },
		{ "rate_login=1/1h\n",
		  "1:1: rate_map \"rate_login=1/1h\": missing the login or "
		  "@domain before the limits" },
		{ "@exa_mple..com rate_login=1/1h\n",
		  "1:1: rate_map \"@exa_mple..com\": empty label" },
		{ "@ rate_login=1/1h\n",
		  "1:1: rate_map \"@\": missing the domain after '@'" },
		{ "a@ rate_login=1/1h\n",
		  "1:1: rate_map \"a@\": empty domain part" },
		{ "a@b\xc3\xbc" "cher.de rate_login=1/1h\n",
		  "1:1: rate_map \"a@b\xc3\xbc" "cher.de\": not ASCII: write its "
		  "A-label (xn--..., as idn2(1) prints it)" },
		{ "ok rate_login=1/1h\n\xff rate_login=1/1h\n",
		  "2:1: invalid UTF-8" },
		{ "ok rate_login=1/1h#x\n",
		  "1:19: '#' inside a word (a comment starts after a blank)" },
	};
	char expected[800], conf_path[256];
	size_t i;

	/* policy_test_dir_put() returns one of four rotating buffers: keep a copy */
	snprintf(conf_path, sizeof(conf_path), "%s",
		 policy_test_dir_put(f, "a.conf", "listener s {\n  auth = require\n"
		     "  rate_map = rates\n}\n"));
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		policy_test_dir_put(f, "rates", cases[i].map);
		snprintf(expected, sizeof(expected), "%s/rates:%s (named at "
			 "%s:3)", f->dir, cases[i].error, conf_path);
		policy_test_load_path_fails(conf_path, expected);
	}
}

/* The words a map allows: comments, blank lines, CR LF, tabs, several
   lines, a last line without its newline. */
static void test_rate_map_syntax(void **state)
{
	const struct policy_test_dir *f = *state;
	struct mp_policy *policy;
	const struct mp_listener *l;
	struct mp_limits limits;
	char buf[128];

	policy_test_dir_put(f, "rates", "# head\r\n\r\n\talice\trate_login=1/1m\t2/1h  "
	    "rate_sender_recipients=9/1d # tail\r\n"
	    "@example.com rate_domain=5/1m 50/1h 500/1d 5000/1w");
	policy = policy_test_load_path(policy_test_dir_put(f, "a.conf", "listener s {\n  rate_map = rates\n"
			     "}\n"));
	l = mp_policy_listener_find(policy, "s", 0);
	assert_int_equal(mp_listener_limits(policy, l, "alice", &limits), 3);
	assert_string_equal(spell(limits.limit[MP_LIMIT_LOGIN], buf,
				  sizeof(buf)), "1/1m 2/1h");
	assert_string_equal(spell(limits.limit[MP_LIMIT_SENDER_RECIPIENTS],
				  buf, sizeof(buf)), "9/1d");
	assert_int_equal(limits.origin[MP_LIMIT_LOGIN].line, 3);
	assert_int_equal(mp_listener_limits(policy, l, "x@example.COM",
					    &limits), 4);
	assert_string_equal(spell(limits.limit[MP_LIMIT_DOMAIN], buf,
				  sizeof(buf)), "5/1m 50/1h 500/1d 5000/1w");
	assert_int_equal(limits.origin[MP_LIMIT_DOMAIN].line, 4);
	mp_policy_unref(&policy);
}

/* Many entries: each one found, none confused with another. */
static void test_rate_map_large(void **state)
{
	const struct policy_test_dir *f = *state;
	struct mp_policy *policy;
	const struct mp_listener *l;
	struct mp_limits limits;
	size_t size = 2 * 1024 * 1024, len = 0;
	char *text = malloc(size), login[64];
	unsigned int i;

	assert_non_null(text);
	for (i = 0; i < 20000; i++)
		len += (size_t)snprintf(text + len, size - len,
					"user%u@d%u.example rate_login=%u/1h\n"
					"@d%u.example rate_domain=%u/1d\n",
					i, i, i + 1, i, i + 7);
	policy_test_dir_put(f, "rates", text);
	policy = policy_test_load_path(policy_test_dir_put(f, "a.conf", "listener s {\n  rate_map = rates\n"
			     "}\n"));
	l = mp_policy_listener_find(policy, "s", 0);
	for (i = 0; i < 20000; i += 997) {
		snprintf(login, sizeof(login), "user%u@D%u.EXAMPLE", i, i);
		assert_int_equal(mp_listener_limits(policy, l, login, &limits),
				 2);
		assert_int_equal(limits.limit[MP_LIMIT_LOGIN]->windows[0].count,
				 i + 1);
		assert_int_equal(limits.limit[MP_LIMIT_DOMAIN]->windows[0].count,
				 i + 7);
		assert_int_equal(limits.origin[MP_LIMIT_LOGIN].line, 2 * i + 1);
		/* another login of the domain: the domain's entry alone */
		snprintf(login, sizeof(login), "other@d%u.example", i);
		assert_int_equal(mp_listener_limits(policy, l, login, &limits),
				 1);
	}
	mp_policy_unref(&policy);
	free(text);
}

/* A holder reloads when the map changes, and a broken map is reported
   once, as a broken policy file is; the milter keeps the last good one. */
static void test_holder_and_map(void **state)
{
	const struct policy_test_dir *f = *state;
	struct mp_policy_holder *holder;
	struct mp_policy *p;
	struct mp_error error;
	struct mp_limits limits;
	const char *conf;

	policy_test_dir_put(f, "rates", "bob rate_login=5/1h\n");
	conf = policy_test_dir_put(f, "a.conf", "listener s {\n  rate_map = rates\n}\n");
	assert_int_equal(mp_policy_holder_new(NULL, conf,
					      MP_HOLDER_KEEP_LAST_GOOD, &holder,
					      &error), 0);
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_LOADED);
	mp_listener_limits(p, mp_policy_listener_find(p, "s", 0), "bob",
			   &limits);
	assert_int_equal(limits.limit[MP_LIMIT_LOGIN]->windows[0].count, 5);
	mp_policy_unref(&p);
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_CURRENT);
	mp_policy_unref(&p);

	policy_test_dir_put(f, "rates", "bob rate_login=6/1h\n");
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_LOADED);
	assert_false(mp_policy_is_stale(p));
	mp_listener_limits(p, mp_policy_listener_find(p, "s", 0), "bob",
			   &limits);
	assert_int_equal(limits.limit[MP_LIMIT_LOGIN]->windows[0].count, 6);
	mp_policy_unref(&p);

	policy_test_dir_put(f, "rates", "bob rate_login=0/1h\n");
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_FAILED);
	assert_non_null(strstr(error.text, "/rates:1:16: rate_login \"0/1h\""));
	assert_non_null(strstr(error.text, "(named at "));
	/* the last good policy, with the last good map */
	mp_listener_limits(p, mp_policy_listener_find(p, "s", 0), "bob",
			   &limits);
	assert_int_equal(limits.limit[MP_LIMIT_LOGIN]->windows[0].count, 6);
	mp_policy_unref(&p);
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_FAILED_KNOWN);
	mp_policy_unref(&p);
	policy_test_dir_put(f, "rates", "bob rate_login=7/1h\n");
	assert_int_equal(mp_policy_holder_get(holder, &p, &error),
			 MP_HOLDER_LOADED);
	mp_listener_limits(p, mp_policy_listener_find(p, "s", 0), "bob",
			   &limits);
	assert_int_equal(limits.limit[MP_LIMIT_LOGIN]->windows[0].count, 7);
	mp_policy_unref(&p);
	mp_policy_holder_free(&holder);
}

/* ---- alert_command ---- */

static void test_alert_command(void **state)
{
	struct mp_policy *policy;
	const struct mp_milter_settings *m;

	(void)state;
	policy = policy_test_load("milter {\n}\n");
	m = mp_policy_milter(policy);
	assert_null(m->alert_command);
	assert_int_equal(m->alert_command_count, 0);
	assert_int_equal(m->origin[MP_MILTER_ALERT_COMMAND].scope,
			 MP_ORIGIN_BUILTIN);
	mp_policy_unref(&policy);

	policy = policy_test_load("milter {\n  alert_command = "
				  "/usr/local/bin/panel-lock --mail "
				  "\"admin team\" \"\" ;\n}\n");
	m = mp_policy_milter(policy);
	assert_int_equal(m->alert_command_count, 5);
	assert_string_equal(m->alert_command[0], "/usr/local/bin/panel-lock");
	assert_string_equal(m->alert_command[1], "--mail");
	assert_string_equal(m->alert_command[2], "admin team");
	assert_string_equal(m->alert_command[3], "");
	/* no shell: a ';' is an argument like any other */
	assert_string_equal(m->alert_command[4], ";");
	assert_null(m->alert_command[5]);
	assert_int_equal(m->origin[MP_MILTER_ALERT_COMMAND].line, 2);
	mp_policy_unref(&policy);

	/* the limit: the command and 31 arguments */
	policy = policy_test_load("milter {\n  alert_command = /bin/x a a a a "
				  "a a a a a a a a a a a a a a a a a a a a a a "
				  "a a a a a\n}\n");
	assert_int_equal(mp_policy_milter(policy)->alert_command_count, 32);
	mp_policy_unref(&policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_windows),
		cmocka_unit_test(test_listener_keys),
		cmocka_unit_test(test_key_facts),
		cmocka_unit_test_setup_teardown(test_rate_map_lookup,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_rate_map_shared,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_rate_map_checks,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_rate_map_errors,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_rate_map_syntax,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_rate_map_large,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test_setup_teardown(test_holder_and_map,
				policy_test_dir_setup, policy_test_dir_teardown),
		cmocka_unit_test(test_alert_command),
	};

	return cmocka_run_group_tests_name("policy-limits", tests, NULL, NULL);
}

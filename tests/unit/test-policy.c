/* test-policy.c: what a loaded policy means (core/policy-*.c).
 *
 * The sample file (packaging/mailpolicy.conf, found through MP_SRCDIR)
 * must mean what its comments say: tables of users, folders and ports
 * with the value and the origin of each key.  Then host overrides, the
 * byte-level edge cases that must load (CRLF, BOM, empty files),
 * reference counting, files and staleness, and concurrent readers.
 * Inheritance and folder rules on small files are test-policy-merge.c,
 * bad files test-policy-errors.c, allocation failures
 * test-policy-alloc.c. */

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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"
#include "policy-test.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static int sample_setup(void **state)
{
	struct mp_policy *policy;
	struct mp_error error;

	if (mp_policy_load_file(NULL, policy_test_sample(), &policy, &error) < 0) {
		print_error("%s\n", error.text);
		return -1;
	}
	*state = policy;
	return 0;
}

static int sample_teardown(void **state)
{
	struct mp_policy *policy = *state;

	mp_policy_unref(&policy);
	return 0;
}

static const struct retention_case sample_retention_cases[] = {
	/* default block only */
	{ "alice@example.com", true, 30 * PT_DAY, MP_DELE_DEFER, 7 * PT_DAY,
	  MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { DEFAULT_ORIGIN(6), DEFAULT_ORIGIN(7), DEFAULT_ORIGIN(8),
	    DEFAULT_ORIGIN(9) } },
	/* a plain login without '@' gets the default block */
	{ "alice", true, 30 * PT_DAY, MP_DELE_DEFER, 7 * PT_DAY, MP_RETRIEVE_SEEN,
	  NULL, 500 * PT_M,
	  { DEFAULT_ORIGIN(6), DEFAULT_ORIGIN(7), DEFAULT_ORIGIN(8),
	    DEFAULT_ORIGIN(9) } },
	/* domain block over the default */
	{ "bob@example.org", true, 7 * PT_DAY, MP_DELE_EXPUNGE, 0,
	  MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { DOMAIN_ORIGIN("example.org", 12), DOMAIN_ORIGIN("example.org", 13),
	    DEFAULT_ORIGIN(8), DEFAULT_ORIGIN(9) } },
	{ "bob@Example.ORG", true, 7 * PT_DAY, MP_DELE_EXPUNGE, 0,
	  MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { DOMAIN_ORIGIN("example.org", 12), DOMAIN_ORIGIN("example.org", 13),
	    DEFAULT_ORIGIN(8), DEFAULT_ORIGIN(9) } },
	/* a subdomain is another domain */
	{ "bob@mail.example.org", true, 30 * PT_DAY, MP_DELE_DEFER, 7 * PT_DAY,
	  MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { DEFAULT_ORIGIN(6), DEFAULT_ORIGIN(7), DEFAULT_ORIGIN(8),
	    DEFAULT_ORIGIN(9) } },
	/* user block over its domain block over the default */
	{ "ceo@example.org", true, MP_DURATION_NEVER, MP_DELE_EXPUNGE, 0,
	  MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { USER_ORIGIN("ceo@example.org", 16),
	    DOMAIN_ORIGIN("example.org", 13), DEFAULT_ORIGIN(8),
	    DEFAULT_ORIGIN(9) } },
	/* the domain part compares case-insensitively... */
	{ "ceo@EXAMPLE.ORG", true, MP_DURATION_NEVER, MP_DELE_EXPUNGE, 0,
	  MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { USER_ORIGIN("ceo@example.org", 16),
	    DOMAIN_ORIGIN("example.org", 13), DEFAULT_ORIGIN(8),
	    DEFAULT_ORIGIN(9) } },
	/* ...the local part exactly: CEO is not ceo, but is in the domain */
	{ "CEO@EXAMPLE.ORG", true, 7 * PT_DAY, MP_DELE_EXPUNGE, 0,
	  MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { DOMAIN_ORIGIN("example.org", 12), DOMAIN_ORIGIN("example.org", 13),
	    DEFAULT_ORIGIN(8), DEFAULT_ORIGIN(9) } },
	/* the last '@' splits */
	{ "ceo@example.org@example.com", true, 30 * PT_DAY, MP_DELE_DEFER,
	  7 * PT_DAY, MP_RETRIEVE_SEEN, NULL, 500 * PT_M,
	  { DEFAULT_ORIGIN(6), DEFAULT_ORIGIN(7), DEFAULT_ORIGIN(8),
	    DEFAULT_ORIGIN(9) } },
	{ "", true, 30 * PT_DAY, MP_DELE_DEFER, 7 * PT_DAY, MP_RETRIEVE_SEEN, NULL,
	  500 * PT_M,
	  { DEFAULT_ORIGIN(6), DEFAULT_ORIGIN(7), DEFAULT_ORIGIN(8),
	    DEFAULT_ORIGIN(9) } },
};

static void test_sample_retention(void **state)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(sample_retention_cases); i++)
		policy_test_check_retention(*state, &sample_retention_cases[i]);
}

static void test_sample_summary(void **state)
{
	const struct mp_policy *policy = *state;

	assert_true(mp_policy_has_retention(policy));
	assert_true(mp_policy_has_folder_quota(policy));
	assert_true(mp_policy_has_listeners(policy));
	assert_true(mp_policy_has_milter(policy));
	assert_string_equal(mp_policy_name(policy), policy_test_sample());
	assert_false(mp_policy_is_stale(policy));
}

static const struct folder_case sample_folder_cases[] = {
	{ "alice@example.com", "Trash", '/', 1,
	  { { "Trash", "Trash", 100 * PT_M, 0, FOL } } },
	{ "bob@example.org", "Trash", '/', 1,
	  { { "Trash", "Trash", 100 * PT_M, 0, FOL } } },
	/* scope folder: the pattern must match the whole name */
	{ "alice@example.com", "Trash/Old", '/', 0, { { 0 } } },
	{ "alice@example.com", "trash", '/', 0, { { 0 } } },
	{ "alice@example.com", "INBOX", '/', 0, { { 0 } } },
	{ "alice@example.com", "Archive", '/', 1,
	  { { "Archive", "Archive", 2 * PT_G, 50000, SUB } } },
	{ "bob@example.org", "Archive", '/', 1,
	  { { "Archive", "Archive", 5 * PT_G, 50000, SUB } } },
	{ "ceo@example.org", "Archive", '/', 1,
	  { { "Archive", "Archive", 5 * PT_G, 50000, SUB } } },
	/* scope subtree: the ancestor is the root */
	{ "alice@example.com", "Archive/2024/Q1", '/', 1,
	  { { "Archive", "Archive", 2 * PT_G, 50000, SUB } } },
	{ "bob@example.org", "Archive/2024/Q1", '/', 1,
	  { { "Archive", "Archive", 5 * PT_G, 50000, SUB } } },
	{ "alice@example.com", "Archive.2024.Q1", '.', 1,
	  { { "Archive", "Archive", 2 * PT_G, 50000, SUB } } },
	/* only at a separator: Archived is not below Archive */
	{ "alice@example.com", "Archived/2024", '/', 0, { { 0 } } },
	{ "alice@example.com", "Archive.2024", '/', 0, { { 0 } } },
	/* "Projects/" then anything, one root per folder */
	{ "alice@example.com", "Projects/apollo", '/', 1,
	  { { "Projects/*", "Projects/apollo", 1 * PT_G, 0, FOL } } },
	{ "bob@example.org", "Projects/apollo", '/', 1,
	  { { "Projects/*", "Projects/apollo", 1 * PT_G, 0, FOL } } },
	{ "alice@example.com", "Projects/apollo/docs", '/', 1,
	  { { "Projects/*", "Projects/apollo/docs", 1 * PT_G, 0, FOL } } },
	{ "alice@example.com", "Projects", '/', 0, { { 0 } } },
	/* a pattern's '/' stands for the namespace's separator: with '.'
	   (Maildir++) the sample's Projects pattern governs
	   Projects.apollo, and a '/' in a name there is an ordinary byte,
	   no separator */
	{ "alice@example.com", "Projects.apollo", '.', 1,
	  { { "Projects/*", "Projects.apollo", 1 * PT_G, 0, FOL } } },
	{ "alice@example.com", "Projects.apollo.docs", '.', 1,
	  { { "Projects/*", "Projects.apollo.docs", 1 * PT_G, 0, FOL } } },
	{ "alice@example.com", "Projects/apollo", '.', 0, { { 0 } } },
	{ "alice@example.com", "Projects.apollo", '/', 0, { { 0 } } },
	{ "alice@example.com", "Archive.2024", '.', 1,
	  { { "Archive", "Archive", 2 * PT_G, 50000, SUB } } },
	{ "alice@example.com", "Archive/2024", '.', 0, { { 0 } } },
};

static void test_sample_folders(void **state)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(sample_folder_cases); i++)
		policy_test_check_folder(*state, &sample_folder_cases[i]);
}

static void test_sample_folder_rules(void **state)
{
	const struct mp_policy *policy = *state;
	struct mp_folder_rule rule;

	assert_int_equal(mp_policy_folder_rule_count(policy, "a@example.com"),
			 3);
	assert_int_equal(mp_policy_folder_rule_count(policy, "b@example.org"),
			 3);
	/* merged in place: Archive keeps its position */
	assert_true(mp_policy_folder_rule(policy, "b@example.org", 1, &rule));
	assert_string_equal(rule.pattern, "Archive");
	assert_int_equal(rule.storage, 5 * PT_G);
	assert_int_equal(rule.origin[MP_FOLDER_STORAGE].scope,
			 MP_ORIGIN_DOMAIN);
	assert_string_equal(rule.origin[MP_FOLDER_STORAGE].selector,
			    "example.org");
	assert_int_equal(rule.origin[MP_FOLDER_STORAGE].line, 35);
	assert_int_equal(rule.origin[MP_FOLDER_MESSAGES].scope,
			 MP_ORIGIN_DEFAULT);
	assert_int_equal(rule.origin[MP_FOLDER_MESSAGES].line, 26);
	assert_int_equal(rule.origin[MP_FOLDER_SCOPE].line, 27);
	assert_true(mp_policy_folder_rule(policy, "b@example.org", 2, &rule));
	assert_string_equal(rule.pattern, "Projects/*");
	assert_int_equal(rule.origin[MP_FOLDER_MESSAGES].scope,
			 MP_ORIGIN_BUILTIN);
	assert_int_equal(rule.origin[MP_FOLDER_SCOPE].scope,
			 MP_ORIGIN_BUILTIN);
	assert_false(mp_policy_folder_rule(policy, "b@example.org", 3, &rule));
	/* the default's Archive is untouched by the domain's */
	assert_true(mp_policy_folder_rule(policy, "a@example.com", 1, &rule));
	assert_int_equal(rule.storage, 2 * PT_G);
}

/* ---- the sample: listeners and milter ---- */

struct listener_case {
	const char *daemon_name;
	uint16_t port;
	const char *label;	/* NULL: none */
};

static const struct listener_case sample_listener_cases[] = {
	{ NULL, 587, "submission" },
	{ NULL, 26, "submission" },
	{ NULL, 465, "submissions" },
	{ NULL, 25, "mx" },
	{ NULL, 999, NULL },
	{ NULL, 0, NULL },
	{ "", 25, "mx" },
	/* the name first, then the port */
	{ "submission", 25, "submission" },
	{ "submissions", 0, "submissions" },
	{ "mx", 465, "mx" },
	{ "smtpd", 465, "submissions" },
	{ "Submission", 0, NULL },	/* labels are case-sensitive */
	{ "unknown", 999, NULL },
};

static void test_sample_listeners(void **state)
{
	const struct mp_policy *policy = *state;
	const struct mp_listener *l;
	size_t i;

	for (i = 0; i < N_ELEMENTS(sample_listener_cases); i++) {
		const struct listener_case *c = &sample_listener_cases[i];

		l = mp_policy_listener_find(policy, c->daemon_name, c->port);
		if ((l == NULL) != (c->label == NULL) ||
		    (l != NULL && strcmp(l->label, c->label) != 0))
			fail_msg("%s/%u: %s, expected %s",
				 c->daemon_name != NULL ? c->daemon_name : "-",
				 c->port, l != NULL ? l->label : "none",
				 c->label != NULL ? c->label : "none");
	}
	assert_int_equal(mp_policy_listener_count(policy), 3);
	assert_string_equal(mp_policy_listener_at(policy, 0)->label, "mx");
	assert_string_equal(mp_policy_listener_at(policy, 1)->label,
			    "submission");
	assert_string_equal(mp_policy_listener_at(policy, 2)->label,
			    "submissions");
	assert_null(mp_policy_listener_at(policy, 3));
}

static void test_sample_listener_values(void **state)
{
	const struct mp_policy *policy = *state;
	const struct mp_listener *l;
	char buf[64];

	l = mp_policy_listener_find(policy, "mx", 0);
	assert_int_equal(l->port_count, 1);
	assert_int_equal(l->ports[0], 25);
	assert_int_equal(l->auth, MP_FORBID);
	assert_int_equal(l->tls, MP_OPTIONAL);
	assert_int_equal(l->min_tls, MP_TLS_ANY);
	assert_int_equal(l->auth_mechanism_count, 0);
	assert_int_equal(l->sender, MP_SENDER_ANY);
	assert_null(l->sender_map);
	assert_int_equal(l->allowed_client_count, 0);
	assert_int_equal(l->max_recipients, 100);
	assert_int_equal(l->max_message_size, 0);
	assert_int_equal(l->limits[MP_LIMIT_LOGIN].window_count, 0);
	assert_int_equal(l->line, 39);
	assert_int_equal(l->origin[MP_LISTENER_AUTH].scope, MP_ORIGIN_DEFAULT);
	assert_int_equal(l->origin[MP_LISTENER_AUTH].line, 41);
	assert_int_equal(l->origin[MP_LISTENER_SENDER].scope,
			 MP_ORIGIN_BUILTIN);

	l = mp_policy_listener_find(policy, "submission", 0);
	assert_int_equal(l->port_count, 2);
	assert_int_equal(l->ports[0], 587);
	assert_int_equal(l->ports[1], 26);
	assert_int_equal(l->auth, MP_REQUIRE);
	assert_int_equal(l->tls, MP_REQUIRE);
	assert_int_equal(l->min_tls, MP_TLS_1_2);
	assert_int_equal(l->auth_mechanism_count, 2);
	assert_string_equal(l->auth_mechanisms[0], "PLAIN");
	assert_string_equal(l->auth_mechanisms[1], "LOGIN");
	assert_int_equal(l->sender, MP_SENDER_LOGIN);
	assert_int_equal(l->allowed_client_count, 2);
	mp_addr_format(&l->allowed_clients[0].addr, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0");
	assert_int_equal(l->allowed_clients[0].prefix, 0);
	assert_int_equal(l->allowed_clients[1].addr.family, 6);
	assert_int_equal(l->allowed_clients[1].prefix, 0);
	assert_int_equal(l->max_recipients, 50);
	assert_int_equal(l->max_message_size, 25 * PT_M);
	assert_int_equal(l->limits[MP_LIMIT_LOGIN].window_count, 1);
	assert_int_equal(l->limits[MP_LIMIT_LOGIN].windows[0].count, 200);
	assert_int_equal(l->limits[MP_LIMIT_LOGIN].windows[0].window_secs, 3600);
	assert_int_equal(l->limits[MP_LIMIT_CLIENT_IP].window_count, 1);
	assert_int_equal(l->limits[MP_LIMIT_CLIENT_IP].windows[0].count, 1000);
	assert_int_equal(l->limits[MP_LIMIT_CLIENT_IP].windows[0].window_secs,
			 PT_DAY);
	assert_int_equal(l->limits[MP_LIMIT_SENDER].window_count, 0);
	assert_int_equal(l->origin[MP_LISTENER_RATE_CLIENT_IP].line, 56);
}

static void test_sample_milter(void **state)
{
	const struct mp_milter_settings *m = mp_policy_milter(*state);

	assert_string_equal(m->socket, "inet:8893@127.0.0.1");
	assert_int_equal(m->unknown_listener, MP_VERDICT_TEMPFAIL);
	assert_int_equal(m->mode, MP_MODE_ENFORCE);
	assert_string_equal(m->audit_header, "X-Mailpolicy");
	assert_null(m->hmac_key_file);	/* commented out in the sample */
	assert_int_equal(m->origin[MP_MILTER_HMAC_KEY_FILE].scope,
			 MP_ORIGIN_BUILTIN);
	assert_int_equal(m->rate_store, MP_RATE_STORE_MEMORY);
	assert_string_equal(m->rate_store_url, "memory");
	assert_int_equal(m->rate_store_failure, MP_VERDICT_ACCEPT);
	assert_int_equal(m->origin[MP_MILTER_SOCKET].scope, MP_ORIGIN_DEFAULT);
	assert_int_equal(m->origin[MP_MILTER_SOCKET].line, 68);
}

/* The forms each milter key takes, beyond the sample's. */
static void test_milter_values(void **state)
{
	static const struct {
		const char *socket, *store;
		enum mp_rate_store_kind kind;
		const char *host;
		uint16_t port;
		unsigned int db;
	} cases[] = {
		{ "unix:/run/mailpolicy/milter.sock", "redis://127.0.0.1:6379/2",
		  MP_RATE_STORE_REDIS, "127.0.0.1", 6379, 2 },
		{ "local:/run/m.sock", "redis://redis.example", MP_RATE_STORE_REDIS,
		  "redis.example", 6379, 0 },
		{ "/run/m.sock", "redis://[2001:db8::1]:6380/15",
		  MP_RATE_STORE_REDIS, "2001:db8::1", 6380, 15 },
		{ "inet6:8893@[::1]", "redis://r1/3", MP_RATE_STORE_REDIS, "r1",
		  6379, 3 },
		{ "inet:8893", "redis://r_1.example:1", MP_RATE_STORE_REDIS,
		  "r_1.example", 1, 0 },
		{ "inet:1@localhost", "memory", MP_RATE_STORE_MEMORY, NULL,
		  6379, 0 },
	};
	const struct mp_milter_settings *m;
	struct mp_policy *policy;
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		snprintf(text, sizeof(text),
			 "milter {\n  socket = %s\n  rate_store = %s\n"
			 "  audit_header = \"\"\n"
			 "  hmac_key_file = \"/etc/mail policy/audit.key\"\n"
			 "  unknown_listener = reject\n  mode = report\n"
			 "  rate_store_failure = tempfail\n}\n",
			 cases[i].socket, cases[i].store);
		policy = policy_test_load(text);
		m = mp_policy_milter(policy);
		assert_string_equal(m->socket, cases[i].socket);
		assert_string_equal(m->rate_store_url, cases[i].store);
		assert_int_equal(m->rate_store, cases[i].kind);
		if (cases[i].host == NULL)
			assert_null(m->redis_host);
		else
			assert_string_equal(m->redis_host, cases[i].host);
		assert_int_equal(m->redis_port, cases[i].port);
		assert_int_equal(m->redis_db, cases[i].db);
		assert_string_equal(m->audit_header, "");
		assert_string_equal(m->hmac_key_file,
				    "/etc/mail policy/audit.key");
		assert_int_equal(m->unknown_listener, MP_VERDICT_REJECT);
		assert_int_equal(m->mode, MP_MODE_REPORT);
		assert_int_equal(m->rate_store_failure, MP_VERDICT_TEMPFAIL);
		assert_int_equal(m->origin[MP_MILTER_RATE_STORE].line, 3);
		mp_policy_unref(&policy);
	}
}

/* Many listeners (the array grows), found by label and by port. */
static void test_many_listeners(void **state)
{
	char text[16384];
	const struct mp_listener *l;
	struct mp_policy *policy;
	size_t len = 0, i;
	char label[32];

	(void)state;
	for (i = 0; i < 100; i++) {
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"listener \"l %zu\" {\n  ports = %zu %zu\n"
					"}\n", i, 1000 + i, 2000 + i);
	}
	policy = policy_test_load(text);
	assert_int_equal(mp_policy_listener_count(policy), 100);
	for (i = 0; i < 100; i++) {
		snprintf(label, sizeof(label), "l %zu", i);
		l = mp_policy_listener_find(policy, label, 0);
		assert_non_null(l);
		assert_ptr_equal(mp_policy_listener_at(policy, i), l);
		assert_ptr_equal(mp_policy_listener_find(policy, NULL,
							 (uint16_t)(1000 + i)), l);
		assert_ptr_equal(mp_policy_listener_find(policy, NULL,
							 (uint16_t)(2000 + i)), l);
		assert_int_equal(l->line, 1 + 3 * i);
	}
	assert_null(mp_policy_listener_find(policy, NULL, 1100));
	assert_null(mp_policy_listener_find(policy, NULL, 999));
	mp_policy_unref(&policy);
}

/* ---- files that configure nothing, and byte-level edge cases ---- */

static void assert_builtin(const struct mp_policy *policy)
{
	const struct mp_milter_settings *m = mp_policy_milter(policy);
	const struct retention_case builtin = {
		"anyone@example.org", false, MP_DURATION_NEVER,
		MP_DELE_EXPUNGE, 0, MP_RETRIEVE_NONE, NULL, 0,
		{ BUILTIN_ORIGIN, BUILTIN_ORIGIN, BUILTIN_ORIGIN,
		  BUILTIN_ORIGIN }
	};
	struct mp_folder_match match;
	size_t k;

	assert_false(mp_policy_has_retention(policy));
	assert_false(mp_policy_has_folder_quota(policy));
	assert_false(mp_policy_has_listeners(policy));
	assert_false(mp_policy_has_milter(policy));
	policy_test_check_retention(policy, &builtin);
	assert_int_equal(mp_policy_folder_rule_count(policy, "a@b.c"), 0);
	assert_int_equal(mp_policy_folder_match(policy, "a@b.c", "INBOX", '/',
						&match, 1), 0);
	assert_null(mp_policy_listener_find(policy, "mx", 25));
	assert_int_equal(mp_policy_listener_count(policy), 0);
	assert_null(mp_policy_listener_at(policy, 0));
	assert_string_equal(m->socket, "inet:8893@127.0.0.1");
	assert_int_equal(m->unknown_listener, MP_VERDICT_TEMPFAIL);
	assert_int_equal(m->mode, MP_MODE_ENFORCE);
	assert_string_equal(m->audit_header, "X-Mailpolicy");
	assert_null(m->hmac_key_file);
	assert_int_equal(m->rate_store, MP_RATE_STORE_MEMORY);
	assert_string_equal(m->rate_store_url, "memory");
	assert_int_equal(m->redis_port, 6379);
	assert_int_equal(m->redis_db, 0);
	assert_int_equal(m->rate_store_failure, MP_VERDICT_ACCEPT);
	for (k = 0; k < MP_MILTER_KEY_COUNT; k++)
		assert_int_equal(m->origin[k].scope, MP_ORIGIN_BUILTIN);
}

static void test_empty_files(void **state)
{
	static const char *const texts[] = {
		"", "\n", "\n\n\n", "# only a comment",
		"# comment\n   # indented\n\t# tabbed\n\n",
		"\xef\xbb\xbf", "\xef\xbb\xbf# BOM then comment\r\n",
		"\r\n\r\n", "   \t  \n",
	};
	struct mp_policy *policy;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(texts); i++) {
		policy = policy_test_load(texts[i]);
		assert_builtin(policy);
		mp_policy_unref(&policy);
	}
}

/* The sample with CRLF line ends, with a BOM, without its last newline,
   and with tabs for indentation all mean the same. */
static void test_sample_variants(void **state)
{
	struct mp_policy *policy;
	struct mp_error error;
	char *text, *variant;
	size_t size, i, j;
	int v;

	(void)state;
	text = policy_test_read_file(policy_test_sample(), &size);
	variant = malloc(size * 2 + 4);
	assert_non_null(variant);
	for (v = 0; v < 4; v++) {
		j = 0;
		if (v == 1) {
			memcpy(variant, "\xef\xbb\xbf", 3);
			j = 3;
		}
		for (i = 0; i < size; i++) {
			if (v == 0 && text[i] == '\n')
				variant[j++] = '\r';
			if (v == 3 && text[i] == ' ' &&
			    (i == 0 || text[i - 1] == '\n' ||
			     text[i - 1] == '\t')) {
				variant[j++] = '\t';
				continue;
			}
			variant[j++] = text[i];
		}
		if (v == 2)
			j--;	/* drop the last newline */
		if (mp_policy_load_string(NULL, "variant", variant, j, &policy,
					  &error) < 0)
			fail_msg("variant %d: %s", v, error.text);
		for (i = 0; i < N_ELEMENTS(sample_retention_cases); i++)
			policy_test_check_retention(policy, &sample_retention_cases[i]);
		for (i = 0; i < N_ELEMENTS(sample_folder_cases); i++)
			policy_test_check_folder(policy, &sample_folder_cases[i]);
		mp_policy_unref(&policy);
	}
	free(variant);
	free(text);
}

/* data need not be NUL-terminated: a copy in a buffer of exactly its
   size lets ASan catch any read past the end. */
static void test_not_terminated(void **state)
{
	static const char text[] = "listener mx {\n  ports = 25\n}";
	struct mp_policy *policy;
	struct mp_error error;
	char *copy;

	(void)state;
	copy = malloc(sizeof(text) - 1);
	memcpy(copy, text, sizeof(text) - 1);
	assert_int_equal(mp_policy_load_string(NULL, "t", copy,
					       sizeof(text) - 1, &policy,
					       &error), 0);
	assert_string_equal(mp_policy_listener_find(policy, NULL, 25)->label,
			    "mx");
	mp_policy_unref(&policy);
	/* cut inside a word, inside a string */
	assert_int_equal(mp_policy_load_string(NULL, "t", copy, 18, &policy,
					       &error), -1);
	assert_string_equal(error.text,
			    "t:2:5: missing '=' or '{' after \"po\"");
	free(copy);
	copy = malloc(24);
	memcpy(copy, "milter {\n  socket = \"abc", 24);
	assert_int_equal(mp_policy_load_string(NULL, "t", copy, 24, &policy,
					       &error), -1);
	assert_string_equal(error.text,
			    "t:2:12: unclosed string (a string ends on its "
			    "line)");
	free(copy);
}

static void test_embedded_nul(void **state)
{
	static const char text[] = "listener mx {\n  ports = 2\0005\n}\n";
	static const char comment[] = "# a comment \0 with a NUL\n";
	struct mp_policy *policy = (void *)1;
	struct mp_error error;

	(void)state;
	assert_int_equal(mp_policy_load_string(NULL, "t", text,
					       sizeof(text) - 1, &policy,
					       &error), -1);
	assert_null(policy);
	assert_string_equal(error.text, "t:2:12: NUL byte");
	assert_int_equal(error.line, 2);
	assert_int_equal(error.column, 12);
	assert_int_equal(mp_policy_load_string(NULL, "t", comment,
					       sizeof(comment) - 1, &policy,
					       &error), -1);
	assert_string_equal(error.text, "t:1:13: NUL byte");
}

/* ---- host overrides ---- */

static void test_retention_set(void **state)
{
	static const struct {
		const char *key, *value, *error;
	} bad[] = {
		{ "keep", "1d", "unknown pop3_retention key" },
		{ "keep_after_retrieval", "30 days",
		  "invalid duration: unknown unit (use s, m, h, d or w)" },
		{ "on_dele", "defer", "needs a duration (e.g. defer 7d)" },
		{ "on_dele", "defer 0s", "defer needs a duration above zero "
		  "(or use expunge)" },
		{ "on_dele", "expunge now", "unexpected extra value" },
		{ "on_dele", "", "unknown value (use expunge, defer DURATION "
		  "or hide)" },
		{ "on_dele", "averyveryveryveryverylongactionname 1d",
		  "unknown value (use expunge, defer DURATION or hide)" },
		{ "on_retrieve", "move", "needs a mailbox (e.g. move "
		  "Archive/POP)" },
		{ "on_retrieve", "move \x01x", "control character in mailbox "
		  "name" },
		{ "on_retrieve", "move \xff", "invalid UTF-8 in mailbox name" },
		{ "max_retained_size", "-1", "invalid size: not a number" },
	};
	struct mp_policy *policy;
	struct mp_retention r, before;
	const char *error;
	char value[] = "move Old Mail";
	size_t i;

	policy = *state;
	mp_policy_retention(policy, "alice@example.com", &r);
	assert_int_equal(mp_retention_set(&r, "keep_after_retrieval", "90d",
					  &error), 0);
	assert_int_equal(r.keep_after_retrieval, 90 * PT_DAY);
	assert_int_equal(r.origin[0].scope, MP_ORIGIN_OVERRIDE);
	assert_null(r.origin[0].selector);
	assert_int_equal(r.origin[0].line, 0);
	assert_int_equal(mp_retention_set(&r, "on_dele", "defer  3d", &error),
			 0);
	assert_int_equal(r.on_dele, MP_DELE_DEFER);
	assert_int_equal(r.dele_defer_secs, 3 * PT_DAY);
	assert_int_equal(mp_retention_set(&r, "on_dele", "hide", &error), 0);
	assert_int_equal(r.dele_defer_secs, 0);
	assert_int_equal(mp_retention_set(&r, "on_retrieve", value, &error), 0);
	assert_int_equal(r.on_retrieve, MP_RETRIEVE_MOVE);
	assert_ptr_equal(r.retrieve_mailbox, value + 5);
	assert_string_equal(r.retrieve_mailbox, "Old Mail");
	assert_int_equal(mp_retention_set(&r, "max_retained_size", "0",
					  &error), 0);
	assert_int_equal(r.max_retained_size, 0);
	assert_int_equal(r.origin[3].scope, MP_ORIGIN_OVERRIDE);

	before = r;

	for (i = 0; i < N_ELEMENTS(bad); i++) {
		error = NULL;
		assert_int_equal(mp_retention_set(&r, bad[i].key, bad[i].value,
						  &error), -1);
		if (strcmp(error, bad[i].error) != 0)
			fail_msg("%s = %s: \"%s\", expected \"%s\"", bad[i].key,
				 bad[i].value, error, bad[i].error);
		assert_memory_equal(&r, &before, sizeof(r));
	}
}

static void test_folder_rule_set(void **state)
{
	struct mp_folder_rule rule, before;
	const char *error;

	(void)state;
	assert_true(mp_policy_folder_rule(*state, "a@example.org", 0, &rule));
	assert_int_equal(mp_folder_rule_set(&rule, "storage", "1G", &error), 0);
	assert_int_equal(rule.storage, PT_G);
	assert_int_equal(rule.origin[MP_FOLDER_STORAGE].scope,
			 MP_ORIGIN_OVERRIDE);
	assert_int_equal(mp_folder_rule_set(&rule, "messages", "10", &error),
			 0);
	assert_int_equal(rule.messages, 10);
	assert_int_equal(mp_folder_rule_set(&rule, "scope", "subtree", &error),
			 0);
	assert_int_equal(rule.scope, SUB);
	before = rule;
	assert_int_equal(mp_folder_rule_set(&rule, "size", "1G", &error), -1);
	assert_string_equal(error, "unknown folder key");
	assert_int_equal(mp_folder_rule_set(&rule, "storage", "1 G", &error),
			 -1);
	assert_int_equal(mp_folder_rule_set(&rule, "scope", "tree", &error),
			 -1);
	assert_string_equal(error, "unknown value (use folder or subtree)");
	assert_int_equal(mp_folder_rule_set(&rule, "messages", "-1", &error),
			 -1);
	assert_memory_equal(&rule, &before, sizeof(rule));
}

/* ---- references, files, staleness ---- */

static void test_refcount(void **state)
{
	struct mp_policy *policy = policy_test_load("milter {\n}\n"), *second;

	(void)state;
	second = mp_policy_ref(policy);
	assert_ptr_equal(second, policy);
	mp_policy_unref(&policy);
	assert_null(policy);
	/* still alive through the second reference */
	assert_true(mp_policy_has_milter(second));
	mp_policy_unref(&second);
	assert_null(second);
	mp_policy_unref(&second);	/* NULL is a no-op */
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/test-policy-XXXXXX", path[64], other[160];
	struct mp_policy *policy, *from_string;
	struct timespec times[2];
	struct mp_error error;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	snprintf(other, sizeof(other), "%s/b.conf", dir);

	assert_int_equal(mp_policy_load_file(NULL, path, &policy, &error), -1);
	assert_null(policy);
	assert_int_equal(error.line, 0);
	assert_int_equal(error.column, 0);
	assert_true(strstr(error.text, ": cannot open: No such file or "
			   "directory") != NULL);
	assert_int_equal(strncmp(error.text, path, strlen(path)), 0);

	assert_int_equal(mp_policy_load_file(NULL, dir, &policy, &error), -1);
	assert_true(strstr(error.text, ": not a regular file") != NULL);

	write_file(path, "pop3_retention {\n  on_dele = hide\n}\n");
	assert_int_equal(mp_policy_load_file(NULL, path, &policy, &error), 0);
	assert_string_equal(mp_policy_name(policy), path);
	assert_false(mp_policy_is_stale(policy));

	/* same size, new mtime */
	times[0].tv_sec = 1000000000;
	times[0].tv_nsec = 0;
	times[1] = times[0];
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_true(mp_policy_is_stale(policy));
	mp_policy_unref(&policy);

	assert_int_equal(mp_policy_load_file(NULL, path, &policy, &error), 0);
	assert_false(mp_policy_is_stale(policy));
	/* only the nanoseconds change */
	times[0].tv_nsec = times[1].tv_nsec = 1;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_true(mp_policy_is_stale(policy));
	mp_policy_unref(&policy);

	/* replaced by rename (a new inode), then removed */
	assert_int_equal(mp_policy_load_file(NULL, path, &policy, &error), 0);
	write_file(other, "pop3_retention {\n  on_dele = hide\n}\n");
	assert_int_equal(utimensat(AT_FDCWD, other, times, 0), 0);
	assert_int_equal(rename(other, path), 0);
	assert_true(mp_policy_is_stale(policy));
	assert_int_equal(unlink(path), 0);
	assert_true(mp_policy_is_stale(policy));
	mp_policy_unref(&policy);

	from_string = policy_test_load("");
	assert_false(mp_policy_is_stale(from_string));
	assert_string_equal(mp_policy_name(from_string), "t.conf");
	mp_policy_unref(&from_string);

	/* too large, without writing 64 MiB: a sparse file */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)MP_POLICY_MAX_FILE_SIZE + 1), 0);
	close(fd);
	assert_int_equal(mp_policy_load_file(NULL, path, &policy, &error), -1);
	snprintf(other, sizeof(other), "%s: file too large (limit 67108864 "
		 "bytes)", path);
	assert_string_equal(error.text, other);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- concurrent readers ---- */

struct reader {
	struct mp_policy *policy;
	unsigned int seed;
	int failures;
};

static void *reader_thread(void *arg)
{
	struct reader *reader = arg;
	struct mp_folder_match matches[4];
	struct mp_policy *policy = reader->policy;
	struct mp_retention r;
	int i;

	for (i = 0; i < 20000; i++) {
		mp_policy_retention(policy, i % 2 ? "ceo@example.org" :
				    "bob@EXAMPLE.org", &r);
		if (r.keep_after_retrieval !=
		    (i % 2 ? MP_DURATION_NEVER : 7 * PT_DAY))
			reader->failures++;
		if (mp_policy_folder_match(policy, "bob@example.org",
					   "Archive/2024", '/', matches, 4) != 1 ||
		    matches[0].rule.storage != 5 * PT_G)
			reader->failures++;
		if (mp_policy_listener_find(policy, NULL, 465) == NULL)
			reader->failures++;
	}
	mp_policy_unref(&policy);
	return NULL;
}

static void test_threads(void **state)
{
	struct mp_policy *policy;
	struct mp_error error;
	struct reader readers[8];
	pthread_t threads[8];
	size_t i;

	(void)state;
	assert_int_equal(mp_policy_load_file(NULL, policy_test_sample(), &policy, &error),
			 0);
	for (i = 0; i < N_ELEMENTS(threads); i++) {
		/* each reader owns a reference, taken before it starts */
		readers[i].policy = mp_policy_ref(policy);
		readers[i].failures = 0;
		assert_int_equal(pthread_create(&threads[i], NULL,
						reader_thread, &readers[i]), 0);
	}
	/* the loader's reference may go first */
	mp_policy_unref(&policy);
	for (i = 0; i < N_ELEMENTS(threads); i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(readers[i].failures, 0);
	}
}

int main(void)
{
	const struct CMUnitTest sample_tests[] = {
		cmocka_unit_test(test_sample_summary),
		cmocka_unit_test(test_sample_retention),
		cmocka_unit_test(test_sample_folders),
		cmocka_unit_test(test_sample_folder_rules),
		cmocka_unit_test(test_sample_listeners),
		cmocka_unit_test(test_sample_listener_values),
		cmocka_unit_test(test_sample_milter),
		cmocka_unit_test(test_retention_set),
		cmocka_unit_test(test_folder_rule_set),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_milter_values),
		cmocka_unit_test(test_many_listeners),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_sample_variants),
		cmocka_unit_test(test_not_terminated),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_threads),
	};
	int failed;

	failed = cmocka_run_group_tests_name("policy-sample", sample_tests,
					     sample_setup, sample_teardown);
	failed += cmocka_run_group_tests_name("policy", tests, NULL, NULL);
	return failed == 0 ? 0 : 1;
}

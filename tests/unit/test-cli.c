/* test-cli.c: the `mailpolicy` command end to end.  Runs the built
 * binary ($MP_CLI) in the source tree ($MP_SRCDIR) on
 * packaging/mailpolicy.conf and the fixtures in tests/unit/data/, and
 * compares exit status, stdout and stderr with what mailpolicy(1)
 * promises.  Skipped when MP_CLI is unset (`make asan` builds this test
 * too, without a binary to run). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SAMPLE "packaging/mailpolicy.conf"
#define DATA "tests/unit/data/"
#define MAX_ARGS 16

struct cli_result {
	int status;
	char *out;
	char *err;
};

/* Reads all of f from the start; never NULL. */
static char *read_all(FILE *f)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	rewind(f);
	do {
		if (cap - len < 4096) {
			cap = cap * 2 + 4096;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	return buf;
}

/* Runs MP_CLI with args (NULL-terminated) in MP_SRCDIR, stdin from
   /dev/null. */
static void cli_runv(struct cli_result *r, const char *const *args)
{
	const char *cli = getenv("MP_CLI"), *srcdir = getenv("MP_SRCDIR");
	char *argv[MAX_ARGS + 2];
	FILE *out, *err;
	pid_t pid;
	int i, status, fd;

	if (cli == NULL || cli[0] == '\0')
		skip();
	argv[0] = (char *)"mailpolicy";
	for (i = 0; args[i] != NULL; i++) {
		assert_true(i < MAX_ARGS);
		argv[i + 1] = (char *)args[i];
	}
	argv[i + 1] = NULL;

	out = tmpfile();
	err = tmpfile();
	assert_non_null(out);
	assert_non_null(err);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0 || dup2(fileno(out), 1) < 0 ||
		    dup2(fileno(err), 2) < 0)
			_exit(126);
		if (srcdir != NULL && chdir(srcdir) < 0)
			_exit(126);
		execv(cli, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("%s did not exit (status 0x%x)", cli, status);
	r->status = WEXITSTATUS(status);
	r->out = read_all(out);
	r->err = read_all(err);
	fclose(out);
	fclose(err);
	if (r->status == 126 || r->status == 127)
		fail_msg("cannot run %s in %s", cli, srcdir != NULL ? srcdir : ".");
}

/* cli_run(&r, ARG..., NULL) */
static void __attribute__((sentinel)) cli_run(struct cli_result *r, ...)
{
	const char *args[MAX_ARGS + 1];
	va_list ap;
	int n = 0;

	va_start(ap, r);
	while ((args[n] = va_arg(ap, const char *)) != NULL) {
		assert_true(n < MAX_ARGS);
		n++;
	}
	va_end(ap);
	cli_runv(r, args);
}

static void cli_result_free(struct cli_result *r)
{
	free(r->out);
	free(r->err);
}

/* The first line of text, without its newline, in buf. */
static const char *first_line(const char *text, char *buf, size_t size)
{
	size_t len = strcspn(text, "\n");

	if (len >= size)
		len = size - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return buf;
}

/* Fails unless text has line (without its newline) as a whole line. */
static void assert_has_line(const char *text, const char *line)
{
	size_t len = strlen(line);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
			return;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	fail_msg("missing line:\n%s\nin output:\n%s", line, text);
}

static void assert_lacks(const char *text, const char *needle)
{
	if (strstr(text, needle) != NULL)
		fail_msg("unexpected \"%s\" in output:\n%s", needle, text);
}

/* ---- check ---- */

static void test_check_sample(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "check", SAMPLE, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	cli_result_free(&r);

	cli_run(&r, "check", "-v", SAMPLE, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, SAMPLE ": OK: pop3_retention, folder_quota, "
			    "3 listeners, milter\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
}

struct valid_case {
	const char *file;
	const char *summary;	/* check -v */
};

static const struct valid_case valid_cases[] = {
	{ DATA "empty.conf", DATA "empty.conf: OK: nothing configured\n" },
	{ DATA "comments.conf", DATA "comments.conf: OK: nothing configured\n" },
	{ DATA "crlf.conf", DATA "crlf.conf: OK: pop3_retention\n" },
	{ DATA "explain.conf", DATA "explain.conf: OK: pop3_retention, "
	  "folder_quota, 1 listener, milter\n" },
	{ DATA "limits.conf", DATA "limits.conf: OK: 2 listeners, milter\n" },
};

static void test_check_valid(void **state)
{
	struct cli_result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];

		cli_run(&r, "check", c->file, NULL);
		if (r.status != 0)
			fail_msg("%s: exit %d, stderr: %s", c->file, r.status, r.err);
		assert_string_equal(r.out, "");
		assert_string_equal(r.err, "");
		cli_result_free(&r);

		cli_run(&r, "check", "--verbose", c->file, NULL);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.out, c->summary);
		cli_result_free(&r);
	}
}

struct invalid_case {
	const char *file;
	const char *error;	/* the one line on stderr, without "\n" */
};

static const struct invalid_case invalid_cases[] = {
	{ DATA "unknown-key.conf",
	  DATA "unknown-key.conf:3:3: "
	  "unknown key \"keep_forever\" in pop3_retention block" },
	{ DATA "unknown-section.conf",
	  DATA "unknown-section.conf:2:1: unknown section \"imap_quota\"" },
	{ DATA "bad-size.conf",
	  DATA "bad-size.conf:3:15: "
	  "storage \"100X\": invalid size: unknown unit (use B, K, M, G or T)" },
	{ DATA "bad-duration.conf",
	  DATA "bad-duration.conf:2:29: "
	  "keep_after_retrieval \"days\": unexpected extra value" },
	{ DATA "bad-rate.conf",
	  DATA "bad-rate.conf:3:16: "
	  "rate_login \"200/never\": invalid rate: duration cannot be never" },
	{ DATA "bad-port.conf",
	  DATA "bad-port.conf:2:14: "
	  "ports \"70000\": invalid port: out of range (1-65535)" },
	{ DATA "bad-enum.conf",
	  DATA "bad-enum.conf:2:13: "
	  "on_dele \"delete\": unknown value (use expunge, defer DURATION or "
	  "hide)" },
	{ DATA "bad-scope.conf",
	  DATA "bad-scope.conf:3:13: "
	  "scope \"tree\": unknown value (use folder or subtree)" },
	{ DATA "unclosed-block.conf",
	  DATA "unclosed-block.conf:1:1: "
	  "unclosed block pop3_retention (no '}' before the end of the file)" },
	{ DATA "stray-brace.conf",
	  DATA "stray-brace.conf:4:1: unexpected '}' (no block is open)" },
	{ DATA "brace-not-last.conf",
	  DATA "brace-not-last.conf:1:18: "
	  "unexpected \"keep_after_retrieval\" after '{' (a '{' must end its "
	  "line)" },
	{ DATA "unterminated-quote.conf",
	  DATA "unterminated-quote.conf:2:10: "
	  "unclosed string (a string ends on its line)" },
	{ DATA "duplicate-listener.conf",
	  DATA "duplicate-listener.conf:4:10: "
	  "duplicate listener \"mx\" (first at line 1)" },
	{ DATA "two-milters.conf",
	  DATA "two-milters.conf:4:1: "
	  "duplicate block milter (first at line 1)" },
	{ DATA "listener-selector.conf",
	  DATA "listener-selector.conf:1:17: "
	  "unexpected \"example.org\" after the listener label (listener takes "
	  "no selector)" },
	{ DATA "host-bits.conf",
	  DATA "host-bits.conf:3:21: "
	  "allowed_clients \"192.0.2.1/24\": invalid network: host bits set "
	  "(the address is not the network's first)" },
	{ DATA "key-outside-block.conf",
	  DATA "key-outside-block.conf:2:1: "
	  "key \"keep_after_retrieval\" outside of any block" },
	{ DATA "folder-outside-folder-quota.conf",
	  DATA "folder-outside-folder-quota.conf:2:3: "
	  "unexpected block \"folder\" in pop3_retention block (it takes only "
	  "keys)" },
	{ DATA "duplicate-key.conf",
	  DATA "duplicate-key.conf:3:3: "
	  "duplicate key \"keep_after_retrieval\" (first at line 2)" },
	{ DATA "line-too-long.conf",
	  DATA "line-too-long.conf:2:4097: line too long (limit 4096 bytes)" },
	{ DATA "invalid-utf8.conf",
	  DATA "invalid-utf8.conf:2:15: invalid UTF-8" },
	{ DATA "nul-byte.conf",
	  DATA "nul-byte.conf:2:16: NUL byte" },
	{ DATA "missing-brace.conf",
	  DATA "missing-brace.conf:1:15: "
	  "missing '=' or '{' after \"pop3_retention\"" },
	{ DATA "bad-escape.conf",
	  DATA "bad-escape.conf:2:25: "
	  "invalid escape in string (only \\\" and \\\\)" },
	{ DATA "duplicate-selector.conf",
	  DATA "duplicate-selector.conf:4:1: "
	  "duplicate block pop3_retention domain example.org (first at line 1)" },
	{ DATA "shared-port.conf",
	  DATA "shared-port.conf:5:15: "
	  "ports \"25\": already used by listener mx (line 1)" },
	{ DATA "tls-forbid.conf",
	  DATA "tls-forbid.conf:3:9: "
	  "tls \"forbid\": unknown value (use require or optional)" },
	{ DATA "sender-map-missing.conf",
	  DATA "sender-map-missing.conf:3:3: "
	  "sender = map needs sender_map = FILE" },
};

static void test_check_invalid(void **state)
{
	struct cli_result r;
	char expected[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		cli_run(&r, "check", c->file, NULL);
		snprintf(expected, sizeof(expected), "%s\n", c->error);
		if (r.status != 1 || strcmp(r.err, expected) != 0)
			fail_msg("%s: exit %d (want 1)\nstderr: %s\nwant:   %s",
				 c->file, r.status, r.err, expected);
		assert_string_equal(r.out, "");
		cli_result_free(&r);
	}
}

static void test_check_missing(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "check", DATA "no-such-file.conf", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, DATA "no-such-file.conf: "
			    "cannot open: No such file or directory\n");
	cli_result_free(&r);
}

/* --userdb: what the plugins see for a user with userdb overrides. */
static void test_explain_userdb(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "explain", SAMPLE, "-u", "bob@example.org",
		"--userdb", "pop3_retention_on_dele= defer 2d ",
		"-d", "folder_quota_rule=Archive:scope=folder:storage=10G",
		"-d", "folder_quota_rule2=Junk:storage=50M:when_full=expunge_oldest",
		NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_has_line(r.out,
"  on_dele              = defer 2d       # override");
	assert_has_line(r.out,
"  keep_after_retrieval = 1w             # domain example.org (line 12)");
	/* an added rule comes after the file's */
	assert_non_null(strstr(r.out,
"  folder \"Projects/*\":\n"
"    storage   = 1G             # default (line 30)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = refuse         # built-in\n"
"  folder Junk:\n"
"    storage   = 50M            # override\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = expunge_oldest # override\n"));
	cli_result_free(&r);

	/* an overridden scope moves the quota root */
	cli_run(&r, "explain", SAMPLE, "-u", "bob@example.org", "-f",
		"Archive.2024", "-s", ".", "-d",
		"folder_quota_rule=Archive:scope=folder", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "  # no folder_quota rule governs this folder");
	cli_result_free(&r);
	cli_run(&r, "explain", SAMPLE, "-u", "bob@example.org", "-f",
		"Archive.2024", "-s", ".", NULL);
	assert_has_line(r.out,
"  quota root \"Folder Archive\" from folder Archive:");
	cli_result_free(&r);

	/* refused and foreign fields are said, and ignored */
	cli_run(&r, "explain", SAMPLE, "-u", "bob@example.org",
		"-d", "folder_quota_rule=Trash:storage=lots",
		"-d", "quota_rule=*:storage=1G", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err,
"mailpolicy: userdb field folder_quota_rule ignored: storage \"lots\": "
"invalid size: not a number\n"
"mailpolicy: userdb field quota_rule: not a mailpolicy field, or empty "
"(ignored)\n");
	assert_has_line(r.out,
"    storage   = 100M           # default (line 21)");
	cli_result_free(&r);

	cli_run(&r, "explain", SAMPLE, "-d", "a=b", "--milter", NULL);
	assert_int_equal(r.status, 2);
	cli_result_free(&r);
	cli_run(&r, "explain", SAMPLE, "-u", "a@b", "-d", "nofield", NULL);
	assert_int_equal(r.status, 2);
	cli_result_free(&r);
}

/* A Redis password in a file others can read: a warning, status 0; the
   same file readable by its owner and group only: quiet. */
static void test_check_password_warning(void **state)
{
	char dir[] = "/tmp/test-cli-XXXXXX", path[64], expected[300];
	struct cli_result r;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mailpolicy.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("milter {\n  mode = report\n"
	      "  rate_store = redis://:s3cret@r1:6379/1\n}\n", f);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(chmod(path, 0644), 0);
	cli_run(&r, "check", path, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	snprintf(expected, sizeof(expected), "%s:3: warning: rate_store "
		 "carries a Redis password, and the file is readable by others "
		 "(mode 0644); put it in redis_password_file, readable by the "
		 "milter only\n", path);
	assert_string_equal(r.err, expected);
	/* the secret itself is never printed */
	assert_lacks(r.err, "s3cret");
	cli_result_free(&r);

	assert_int_equal(chmod(path, 0640), 0);
	cli_run(&r, "check", path, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	cli_result_free(&r);

	/* explain shows the URL without the password */
	cli_run(&r, "explain", path, "--milter", NULL);
	assert_int_equal(r.status, 0);
	assert_lacks(r.out, "s3cret");
	assert_has_line(r.out, "  rate_store          = \"redis://:****@r1:6379/1\" "
			"# milter (line 3); password hidden");
	cli_result_free(&r);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Several files: each is reported, the status is the worst. */
static void test_check_several(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "check", "-v", SAMPLE, DATA "unknown-key.conf",
		DATA "empty.conf", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out,
		SAMPLE ": OK: pop3_retention, folder_quota, 3 listeners, milter\n"
		DATA "empty.conf: OK: nothing configured\n");
	assert_string_equal(r.err, DATA "unknown-key.conf:3:3: unknown key "
			    "\"keep_forever\" in pop3_retention block\n");
	cli_result_free(&r);
}

/* ---- usage ---- */

struct usage_case {
	const char *args[8];
	const char *message;	/* first line of stderr */
};

static const struct usage_case usage_cases[] = {
	{ { NULL }, "mailpolicy: no command given" },
	{ { "frobnicate", NULL }, "mailpolicy: unknown command 'frobnicate'" },
	{ { "--frobnicate", NULL }, "mailpolicy: unknown option --frobnicate" },
	{ { "check", NULL }, "mailpolicy: check: no FILE given" },
	{ { "check", "-x", SAMPLE, NULL }, "mailpolicy: unknown option -x" },
	{ { "check", "--quiet", SAMPLE, NULL },
	  "mailpolicy: unknown option --quiet" },
	{ { "explain", NULL }, "mailpolicy: explain: no FILE given" },
	{ { "explain", SAMPLE, NULL },
	  "mailpolicy: explain: --user ADDR is required (unless only "
	  "--listener, --port or --milter is asked for)" },
	{ { "explain", SAMPLE, SAMPLE, "--user", "a@b", NULL },
	  "mailpolicy: explain: one FILE only, got '" SAMPLE "' too" },
	{ { "explain", SAMPLE, "--user", NULL },
	  "mailpolicy: option --user needs a value" },
	{ { "explain", SAMPLE, "-u", NULL },
	  "mailpolicy: option -u needs a value" },
	{ { "explain", SAMPLE, "--user=", NULL },
	  "mailpolicy: explain: --user needs an address" },
	{ { "explain", SAMPLE, "--folder", "Trash", NULL },
	  "mailpolicy: explain: --folder, --separator and --userdb need --user" },
	{ { "explain", SAMPLE, "--port", "25", "--separator", ".", NULL },
	  "mailpolicy: explain: --folder, --separator and --userdb need --user" },
	{ { "explain", SAMPLE, "-u", "a@b", "--separator", "::", NULL },
	  "mailpolicy: explain: --separator takes one character, not '::'" },
	{ { "explain", SAMPLE, "--port", "0", NULL },
	  "mailpolicy: explain: --port 0: invalid port: out of range (1-65535)" },
	{ { "explain", SAMPLE, "--port", "65536", NULL },
	  "mailpolicy: explain: --port 65536: invalid port: out of range (1-65535)" },
	{ { "explain", SAMPLE, "--port", "smtp", NULL },
	  "mailpolicy: explain: --port smtp: invalid port: not a number" },
	{ { "explain", SAMPLE, "--listener", "", NULL },
	  "mailpolicy: explain: --listener needs a name" },
	{ { "explain", SAMPLE, "--login", "a@b", NULL },
	  "mailpolicy: explain: --login needs --listener or --port" },
	{ { "explain", SAMPLE, "-u", "a@b", "-L", "a@b", "--milter", NULL },
	  "mailpolicy: explain: --login needs --listener or --port" },
	{ { "explain", SAMPLE, "--port", "587", "--login=", NULL },
	  "mailpolicy: explain: --login needs a login" },
};

static void test_usage_errors(void **state)
{
	struct cli_result r;
	char line[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]); i++) {
		const struct usage_case *c = &usage_cases[i];

		cli_runv(&r, c->args);
		first_line(r.err, line, sizeof(line));
		if (r.status != 2 || strcmp(line, c->message) != 0)
			fail_msg("case %zu: exit %d (want 2)\nstderr: %s\nwant:   %s",
				 i, r.status, r.err, c->message);
		/* the usage follows the message, on stderr only */
		assert_non_null(strstr(r.err, "\nUsage: mailpolicy check"));
		assert_string_equal(r.out, "");
		cli_result_free(&r);
	}
}

static void test_help_version(void **state)
{
	static const char *const helps[][3] = {
		{ "--help", NULL }, { "-h", NULL },
		{ "check", "--help", NULL }, { "explain", "--help", NULL },
	};
	struct cli_result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		cli_runv(&r, helps[i]);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		assert_true(strncmp(r.out, "Usage: mailpolicy check", 23) == 0);
		cli_result_free(&r);
	}

	cli_run(&r, "--version", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_true(strncmp(r.out, "mailpolicy ", 11) == 0);
	assert_true(r.out[11] >= '0' && r.out[11] <= '9');
	assert_non_null(strchr(r.out, '\n'));
	assert_string_equal(strchr(r.out, '\n'), "\n");
	cli_result_free(&r);
}

/* ---- explain: the sample policy ---- */

static void test_explain_alice(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "explain", SAMPLE, "--user", "alice@example.com", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out,
"pop3_retention for alice@example.com:\n"
"  keep_after_retrieval = 30d            # default (line 6)\n"
"  on_dele              = defer 1w       # default (line 7)\n"
"  on_retrieve          = seen           # default (line 8)\n"
"  max_retained_size    = 500M           # default (line 9)\n"
"\n"
"folder_quota for alice@example.com:\n"
"  folder Trash:\n"
"    storage   = 100M           # default (line 21)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = expunge_oldest # default (line 22)\n"
"  folder Archive:\n"
"    storage   = 2G             # default (line 25)\n"
"    messages  = 50000          # default (line 26)\n"
"    scope     = subtree        # default (line 27)\n"
"    when_full = refuse         # built-in\n"
"  folder \"Projects/*\":\n"
"    storage   = 1G             # default (line 30)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = refuse         # built-in\n");
	cli_result_free(&r);
}

static void test_explain_bob(void **state)
{
	struct cli_result r;

	(void)state;
	/* the domain part compares case-insensitively */
	cli_run(&r, "explain", SAMPLE, "--user", "bob@Example.ORG", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out,
"pop3_retention for bob@Example.ORG:\n"
"  keep_after_retrieval = 1w             # domain example.org (line 12)\n"
"  on_dele              = expunge        # domain example.org (line 13)\n"
"  on_retrieve          = seen           # default (line 8)\n"
"  max_retained_size    = 500M           # default (line 9)\n"
"\n"
"folder_quota for bob@Example.ORG:\n"
"  folder Trash:\n"
"    storage   = 100M           # default (line 21)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = expunge_oldest # default (line 22)\n"
"  folder Archive:\n"
"    storage   = 5G             # domain example.org (line 35)\n"
"    messages  = 50000          # default (line 26)\n"
"    scope     = subtree        # default (line 27)\n"
"    when_full = refuse         # built-in\n"
"  folder \"Projects/*\":\n"
"    storage   = 1G             # default (line 30)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = refuse         # built-in\n");
	cli_result_free(&r);
}

static void test_explain_ceo(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "explain", SAMPLE, "--user", "ceo@example.org", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_has_line(r.out, "pop3_retention for ceo@example.org:");
	assert_has_line(r.out,
"  keep_after_retrieval = never          # user ceo@example.org (line 16)");
	assert_has_line(r.out,
"  on_dele              = expunge        # domain example.org (line 13)");
	assert_has_line(r.out,
"  on_retrieve          = seen           # default (line 8)");
	assert_has_line(r.out,
"  max_retained_size    = 500M           # default (line 9)");
	assert_has_line(r.out,
"    storage   = 5G             # domain example.org (line 35)");
	cli_result_free(&r);

	/* the local part is exact: no user block for CEO@ */
	cli_run(&r, "explain", SAMPLE, "--user", "CEO@example.org", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out,
"  keep_after_retrieval = 1w             # domain example.org (line 12)");
	cli_result_free(&r);
}

struct folder_case {
	const char *user;
	const char *folder;
	const char *separator;	/* NULL: default */
	const char *section;	/* the whole output after the retention */
};

static const struct folder_case folder_cases[] = {
	{ "alice@example.com", "Trash", NULL,
"folder_quota for alice@example.com, folder Trash:\n"
"  quota root \"Folder Trash\" from folder Trash:\n"
"    storage   = 100M           # default (line 21)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = expunge_oldest # default (line 22)\n" },
	{ "alice@example.com", "Archive/2024", NULL,
"folder_quota for alice@example.com, folder Archive/2024:\n"
"  quota root \"Folder Archive\" from folder Archive:\n"
"    storage   = 2G             # default (line 25)\n"
"    messages  = 50000          # default (line 26)\n"
"    scope     = subtree        # default (line 27)\n"
"    when_full = refuse         # built-in\n" },
	{ "bob@example.org", "Archive/2024", NULL,
"folder_quota for bob@example.org, folder Archive/2024:\n"
"  quota root \"Folder Archive\" from folder Archive:\n"
"    storage   = 5G             # domain example.org (line 35)\n"
"    messages  = 50000          # default (line 26)\n"
"    scope     = subtree        # default (line 27)\n"
"    when_full = refuse         # built-in\n" },
	{ "alice@example.com", "Projects/apollo", NULL,
"folder_quota for alice@example.com, folder Projects/apollo:\n"
"  quota root \"Folder Projects/apollo\" from folder \"Projects/*\":\n"
"    storage   = 1G             # default (line 30)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = refuse         # built-in\n" },
	/* "*" crosses the separator; scope folder: each folder alone */
	{ "alice@example.com", "Projects/apollo/specs", NULL,
"folder_quota for alice@example.com, folder Projects/apollo/specs:\n"
"  quota root \"Folder Projects/apollo/specs\" from folder \"Projects/*\":\n"
"    storage   = 1G             # default (line 30)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = folder         # built-in\n"
"    when_full = refuse         # built-in\n" },
	{ "alice@example.com", "Projects", NULL,
"folder_quota for alice@example.com, folder Projects:\n"
"  # no folder_quota rule governs this folder\n" },
	{ "alice@example.com", "INBOX", NULL,
"folder_quota for alice@example.com, folder INBOX:\n"
"  # no folder_quota rule governs this folder\n" },
	/* with "." as the separator Archive/2024 is one name, not a child */
	{ "alice@example.com", "Archive/2024", ".",
"folder_quota for alice@example.com, folder Archive/2024:\n"
"  # no folder_quota rule governs this folder\n" },
	{ "alice@example.com", "Archive.2024", ".",
"folder_quota for alice@example.com, folder Archive.2024:\n"
"  quota root \"Folder Archive\" from folder Archive:\n"
"    storage   = 2G             # default (line 25)\n"
"    messages  = 50000          # default (line 26)\n"
"    scope     = subtree        # default (line 27)\n"
"    when_full = refuse         # built-in\n" },
};

static void test_explain_folders(void **state)
{
	struct cli_result r;
	const char *section;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(folder_cases) / sizeof(folder_cases[0]); i++) {
		const struct folder_case *c = &folder_cases[i];

		if (c->separator != NULL)
			cli_run(&r, "explain", SAMPLE, "--user", c->user,
				"--folder", c->folder, "--separator",
				c->separator, NULL);
		else
			cli_run(&r, "explain", SAMPLE, "-u", c->user,
				"-f", c->folder, NULL);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		section = strstr(r.out, "\nfolder_quota for ");
		if (section == NULL)
			fail_msg("case %zu: no folder_quota section:\n%s", i, r.out);
		if (strcmp(section + 1, c->section) != 0)
			fail_msg("case %zu:\n%s\nwant:\n%s", i, section + 1,
				 c->section);
		cli_result_free(&r);
	}
}

struct listener_case {
	const char *args[6];
	const char *lines[4];	/* each a whole line of the output */
};

static const struct listener_case listener_cases[] = {
	{ { "--port", "25" }, {
	  "listener mx (line 39), matched by port 25:",
	  "  auth                      = forbid         # listener mx (line 41)",
	  "  max_recipients            = 100            # listener mx (line 43)",
	  "  rate_login                = unlimited      # built-in" } },
	{ { "--port", "587" }, {
	  "listener submission (line 45), matched by port 587:",
	  "  ports                     = 587 26         # listener submission (line 46)",
	  "  auth_mechanisms           = PLAIN LOGIN    # listener submission (line 50)",
	  "  rate_login                = 200/1h         # listener submission (line 55)" } },
	{ { "--port", "26" }, {
	  "listener submission (line 45), matched by port 26:",
	  "  allowed_clients           = 0.0.0.0/0 ::/0 # listener submission (line 52)",
	  "  max_message_size          = 25M            # listener submission (line 54)",
	  "  rate_client_ip            = 1000/1d        # listener submission (line 56)" } },
	{ { "--port", "465" }, {
	  "listener submissions (line 58), matched by port 465:",
	  "  min_tls                   = TLSv1.2        # listener submissions (line 62)",
	  "  max_message_size          = 0              # built-in; no limit",
	  "  auth_mechanisms           =                # built-in; any mechanism" } },
	{ { "--listener", "submissions" }, {
	  "listener submissions (line 58), matched by name:",
	  "  sender                    = login          # listener submissions (line 63)" } },
	/* the name wins over the port, as in the milter */
	{ { "--listener", "mx", "--port", "587" }, {
	  "listener mx (line 39), matched by name:" } },
	{ { "--listener", "smtpd", "--port", "587" }, {
	  "listener submission (line 45), matched by port 587:" } },
	{ { "--port", "999" }, {
	  "no listener for port 999; milter unknown_listener = tempfail applies" } },
	{ { "--listener", "relay" }, {
	  "no listener named relay; milter unknown_listener = tempfail applies" } },
	{ { "--listener", "relay", "-p", "999" }, {
	  "no listener named relay or for port 999; milter unknown_listener = "
	  "tempfail applies" } },
};

static void test_explain_listeners(void **state)
{
	const char *args[MAX_ARGS + 1];
	struct cli_result r;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < sizeof(listener_cases) / sizeof(listener_cases[0]); i++) {
		const struct listener_case *c = &listener_cases[i];

		n = 0;
		args[n++] = "explain";
		args[n++] = SAMPLE;
		for (j = 0; j < 6 && c->args[j] != NULL; j++)
			args[n++] = c->args[j];
		args[n] = NULL;
		cli_runv(&r, args);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		/* only the listener was asked for */
		assert_lacks(r.out, "pop3_retention");
		assert_lacks(r.out, "milter:");
		for (j = 0; j < 4 && c->lines[j] != NULL; j++)
			assert_has_line(r.out, c->lines[j]);
		cli_result_free(&r);
	}
}

static void test_explain_user_and_port(void **state)
{
	struct cli_result r;
	const char *listener;

	(void)state;
	cli_run(&r, "explain", SAMPLE, "--user", "alice@example.com",
		"--folder", "Trash", "--port", "587", "--milter", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	/* sections in a fixed order, separated by one empty line */
	assert_true(strncmp(r.out, "pop3_retention for alice@example.com:\n", 38) == 0);
	assert_non_null(strstr(r.out, "\n\nfolder_quota for alice@example.com, folder Trash:\n"));
	/* the user is the SMTP login the rate limits are shown for */
	listener = strstr(r.out, "\n\nlistener submission (line 45), matched by "
			  "port 587, for login alice@example.com:\n");
	assert_non_null(listener);
	assert_non_null(strstr(listener, "\n\nmilter:\n"));
	cli_result_free(&r);
}

static void test_explain_milter(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "explain", SAMPLE, "--milter", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out,
"milter:\n"
"  socket              = inet:8893@127.0.0.1 # milter (line 68)\n"
"  unknown_listener    = tempfail       # milter (line 69)\n"
"  mode                = enforce        # milter (line 70)\n"
"  audit_header        = X-Mailpolicy   # milter (line 71)\n"
"  hmac_key_file       =                # built-in; not set: no HMAC\n"
"  rate_store          = memory         # milter (line 73)\n"
"  rate_store_failure  = accept         # milter (line 74)\n"
"  redis_password_file =                # built-in; not set: no Redis AUTH\n"
"  alert_command       =                # built-in; not set: no command on a trip\n");
	cli_result_free(&r);

	/* no milter block: the built-in defaults */
	cli_run(&r, "explain", DATA "empty.conf", "-m", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "  # no milter block: built-in defaults");
	assert_has_line(r.out, "  unknown_listener    = tempfail       # built-in");
	cli_result_free(&r);
}

/* ---- explain: edge cases (tests/unit/data/explain.conf) ---- */

static void test_explain_edge_user(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "explain", DATA "explain.conf", "--user", "dave@EXAMPLE.net", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_has_line(r.out,
"  keep_after_retrieval = 2w             # domain example.net (line 9)");
	assert_has_line(r.out,
"  on_dele              = hide           # domain example.net (line 10)");
	assert_has_line(r.out,
"  on_retrieve          = move \"POP3 Retrieved\" # default (line 6)");
	assert_has_line(r.out,
"  max_retained_size    = 1536K          # domain example.net (line 11)");
	assert_has_line(r.out, "  folder \"%\":");
	assert_has_line(r.out, "  folder INBOX:");
	assert_has_line(r.out, "  folder \"Shared Projects\":");
	cli_result_free(&r);

	/* a name without '@' matches only user blocks */
	cli_run(&r, "explain", DATA "explain.conf", "--user", "postmaster", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out,
"  keep_after_retrieval = never          # built-in");
	assert_has_line(r.out,
"  on_dele              = defer 36h      # user postmaster (line 14)");
	assert_has_line(r.out, "  folder \"%\":");
	assert_lacks(r.out, "INBOX");
	cli_result_free(&r);

	/* no retention block applies: stock behaviour, said so */
	cli_run(&r, "explain", DATA "empty.conf", "--user", "alice@example.com", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out,
"pop3_retention for alice@example.com:\n"
"  # no pop3_retention block applies: stock POP3 behaviour\n"
"  keep_after_retrieval = never          # built-in\n"
"  on_dele              = expunge        # built-in\n"
"  on_retrieve          = none           # built-in\n"
"  max_retained_size    = 0              # built-in; no limit\n"
"\n"
"folder_quota for alice@example.com:\n"
"  # no folder_quota rule applies\n");
	cli_result_free(&r);
}

static void test_explain_edge_folders(void **state)
{
	struct cli_result r;

	(void)state;
	/* INBOX in any case; the literal rule beats "%" for the same root.
	   Dovecot hands the plugin INBOX in upper case whatever the client
	   wrote (mailbox_alloc()), so the root is "Folder INBOX", as
	   GETQUOTAROOT inbox reports it */
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "inbox", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "folder_quota for dave@example.net, folder INBOX:");
	assert_has_line(r.out, "  quota root \"Folder INBOX\" from folder INBOX:");
	assert_lacks(r.out, "from folder \"%\"");
	cli_result_free(&r);

	/* ... and so a pattern that spells INBOX in upper case but is not
	   the INBOX word ("INBOX*") governs inbox/Sent, as in the plugin;
	   "inboxes" is not INBOX and keeps its case */
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "inbox/Sent", "-d", "folder_quota_rule=INBOX*:storage=1M",
		NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_has_line(r.out,
"  quota root \"Folder INBOX/Sent\" from folder \"INBOX*\":");
	cli_result_free(&r);
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "inboxes", "-d", "folder_quota_rule=INBOX*:storage=1M",
		NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "  quota root \"Folder inboxes\" from folder \"%\":");
	cli_result_free(&r);
	/* INBOX itself whatever the separator; with "." the rest is taken
	   as given, since it may be the name after a prefix "INBOX." */
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "Inbox", "-s", ".", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "  quota root \"Folder INBOX\" from folder INBOX:");
	cli_result_free(&r);

	/* "%" stops at the separator: with "." the folder is a child ... */
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "Shared Projects.2024", "-s", ".", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(strstr(r.out, "\nfolder_quota") + 1,
"folder_quota for dave@example.net, folder \"Shared Projects.2024\":\n"
"  quota root \"Folder Shared Projects\" from folder \"Shared Projects\":\n"
"    storage   = 10G            # domain example.net (line 27)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = subtree        # domain example.net (line 28)\n"
"    when_full = refuse         # built-in\n");
	cli_result_free(&r);

	/* ... with "/" it is a top-level name that "%" matches */
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "Shared Projects.2024", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out,
"  quota root \"Folder Shared Projects.2024\" from folder \"%\":");
	assert_has_line(r.out,
"    messages  = 1000           # default (line 19)");
	cli_result_free(&r);
}

/* A rule without any limit (storage and messages 0) gives no quota root:
   the plugin leaves it out, so GETQUOTAROOT does not list it, and the
   rule it beat for that root does not apply either (a user's limit
   lifted).  explain says so rather than print a root IMAP never shows. */
static void test_explain_no_limit_root(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "INBOX", "-d", "folder_quota_rule=INBOX:storage=0", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(strstr(r.out, "\nfolder_quota") + 1,
"folder_quota for dave@example.net, folder INBOX:\n"
"  # no quota root \"Folder INBOX\": folder INBOX sets no limit\n");
	cli_result_free(&r);

	/* beside a root that has a limit: only that one is a root */
	cli_run(&r, "explain", DATA "explain.conf", "-u", "dave@example.net",
		"-f", "Shared Projects/2024", "-d",
		"folder_quota_rule=Shared Projects/2024:messages=0", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(strstr(r.out, "\nfolder_quota") + 1,
"folder_quota for dave@example.net, folder \"Shared Projects/2024\":\n"
"  # no quota root \"Folder Shared Projects/2024\": folder \"Shared Projects/2024\" sets no limit\n"
"  quota root \"Folder Shared Projects\" from folder \"Shared Projects\":\n"
"    storage   = 10G            # domain example.net (line 27)\n"
"    messages  = 0              # built-in; no limit\n"
"    scope     = subtree        # domain example.net (line 28)\n"
"    when_full = refuse         # built-in\n");
	cli_result_free(&r);
}

static void test_explain_edge_smtp(void **state)
{
	struct cli_result r;
	char dir[PATH_MAX], line[PATH_MAX + 100];

	(void)state;
	cli_run(&r, "explain", DATA "explain.conf", "--port", "2525", "--milter", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_has_line(r.out, "listener relay (line 32), matched by port 2525:");
	assert_has_line(r.out,
"  sender                    = map            # listener relay (line 34)");
	/* a relative sender_map starts at the policy file's directory, and
	   explain shows where that is */
	assert_non_null(realpath(getenv("MP_SRCDIR") != NULL ?
				 getenv("MP_SRCDIR") : ".", dir));
	snprintf(line, sizeof(line), "  sender_map                = %s/"
		 "tests/unit/data/senders.map # listener relay (line 35)", dir);
	assert_has_line(r.out, line);
	assert_has_line(r.out,
"  allowed_clients           = 192.0.2.0/24 2001:db8::/32 198.51.100.7/32 # listener relay (line 36)");
	assert_has_line(r.out,
"  rate_sender               = 50/10m         # listener relay (line 37)");
	assert_has_line(r.out,
"  mode                = report         # milter (line 41)");
	assert_has_line(r.out,
"  hmac_key_file       = /etc/mailpolicy/audit.key # milter (line 42)");
	assert_has_line(r.out,
"  rate_store          = redis://127.0.0.1:6379/2 # milter (line 43)");
	assert_has_line(r.out,
"  rate_store_failure  = tempfail       # milter (line 44)");
	assert_has_line(r.out,
"  socket              = inet:8893@127.0.0.1 # built-in");
	cli_result_free(&r);
	/* in report mode the milter only logs what unknown_listener says */
	cli_run(&r, "explain", DATA "explain.conf", "--port", "999", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "no listener for port 999; milter "
			"unknown_listener = tempfail applies (mode = report: "
			"logged, the mail is accepted)");
	cli_result_free(&r);
}

/* The rate limits a login gets on a listener, each from the listener
   line or the rate_map entry it came from (data/limits.conf). */
static void test_explain_limits(void **state)
{
	struct cli_result r;
	char dir[PATH_MAX], map[PATH_MAX + 40], line[2 * PATH_MAX + 200];
	const char *rates;

	(void)state;
	assert_non_null(realpath(getenv("MP_SRCDIR") != NULL ?
				 getenv("MP_SRCDIR") : ".", dir));
	snprintf(map, sizeof(map), "%s/tests/unit/data/rates.map", dir);

	/* no login: the listener's own keys, the map named */
	cli_run(&r, "explain", DATA "limits.conf", "--port", "587", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	rates = strstr(r.out, "  rate_login ");
	assert_non_null(rates);
	snprintf(line, sizeof(line),
"  rate_login                = 100/1h 1000/1d # listener submission (line 7)\n"
"  rate_client_ip            = 2000/1d        # listener submission (line 10)\n"
"  rate_sender               = unlimited      # built-in\n"
"  rate_domain               = 1000/1h 10000/1d # listener submission (line 9)\n"
"  rate_login_recipients     = 500/1h 5000/1d # listener submission (line 8)\n"
"  rate_client_ip_recipients = unlimited      # built-in\n"
"  rate_sender_recipients    = unlimited      # built-in\n"
"  rate_domain_recipients    = unlimited      # built-in\n"
"  rate_client_ipv6_prefix   = 56             # listener submission (line 11)\n"
"  rate_map                  = %s # listener submission (line 12); changes "
"the rate_* keys per login: see --login\n"
"  over_limit                = hold           # listener submission (line 13)\n"
"  add_audit_header          = yes            # built-in\n", map);
	assert_string_equal(rates, line);
	assert_has_line(r.out, "listener submission (line 2), matched by port 587:");
	assert_has_line(r.out,
"  header_from               = match_sender   # listener submission (line 6)");
	cli_result_free(&r);

	/* the login's entry, then its domain's, then the listener */
	cli_run(&r, "explain", DATA "limits.conf", "--port", "587", "--login",
		"newsletter@example.com", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "listener submission (line 2), matched by port "
			"587, for login newsletter@example.com:");
	snprintf(line, sizeof(line), "  rate_login                = 5000/1d "
		 "       # rate_map %s (line 2), login entry "
		 "newsletter@example.com", map);
	assert_has_line(r.out, line);
	snprintf(line, sizeof(line), "  rate_domain               = 2000/1h "
		 "20000/1d # rate_map %s (line 3), domain entry @example.com",
		 map);
	assert_has_line(r.out, line);
	snprintf(line, sizeof(line), "  rate_login_recipients     = 50000/1d "
		 "      # rate_map %s (line 2), login entry "
		 "newsletter@example.com", map);
	assert_has_line(r.out, line);
	assert_has_line(r.out,
"  rate_client_ip            = 2000/1d        # listener submission (line 10)");
	assert_has_line(r.out,
"  rate_sender               = unlimited      # built-in");
	cli_result_free(&r);

	/* another login of the domain, the domain compared in any case */
	cli_run(&r, "explain", DATA "limits.conf", "--port", "465", "--login",
		"bob@EXAMPLE.com", NULL);
	assert_int_equal(r.status, 0);
	snprintf(line, sizeof(line), "  rate_login                = 300/1h "
		 "        # rate_map %s (line 3), domain entry @example.com", map);
	assert_has_line(r.out, line);
	assert_has_line(r.out,
"  rate_login_recipients     = 500/1h 5000/1d # listener submission (line 8)");
	cli_result_free(&r);

	/* --user is the login when --login is not given; an entry's
	   unlimited lifts the listener's limit */
	cli_run(&r, "explain", DATA "limits.conf", "--user", "relay",
		"--port", "587", NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out, "listener submission (line 2), matched by port "
			"587, for login relay:");
	snprintf(line, sizeof(line), "  rate_login                = unlimited "
		 "     # rate_map %s (line 4), login entry relay", map);
	assert_has_line(r.out, line);
	snprintf(line, sizeof(line), "  rate_map                  = %s # "
		 "listener submission (line 12); applied above", map);
	assert_has_line(r.out, line);
	cli_result_free(&r);

	cli_run(&r, "explain", DATA "limits.conf", "--port", "25", "--milter",
		NULL);
	assert_int_equal(r.status, 0);
	assert_has_line(r.out,
"  add_audit_header          = no             # listener mx (line 18)");
	assert_has_line(r.out,
"  rate_map                  =                # built-in; not set");
	assert_has_line(r.out,
"  over_limit                = tempfail       # built-in");
	assert_has_line(r.out,
"  alert_command       = /usr/local/sbin/panel-alert --notify \"abuse desk\" "
"# milter (line 21)");
	cli_result_free(&r);
}

static void test_explain_invalid_file(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, "explain", DATA "unknown-key.conf", "--user", "a@b", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, DATA "unknown-key.conf:3:3: "));
	cli_result_free(&r);

	cli_run(&r, "explain", DATA "no-such-file.conf", "--port", "25", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	cli_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_sample),
		cmocka_unit_test(test_check_valid),
		cmocka_unit_test(test_check_invalid),
		cmocka_unit_test(test_check_missing),
		cmocka_unit_test(test_check_several),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_explain_alice),
		cmocka_unit_test(test_explain_bob),
		cmocka_unit_test(test_explain_ceo),
		cmocka_unit_test(test_explain_folders),
		cmocka_unit_test(test_explain_listeners),
		cmocka_unit_test(test_explain_user_and_port),
		cmocka_unit_test(test_explain_milter),
		cmocka_unit_test(test_explain_edge_user),
		cmocka_unit_test(test_explain_edge_folders),
		cmocka_unit_test(test_explain_no_limit_root),
		cmocka_unit_test(test_explain_edge_smtp),
		cmocka_unit_test(test_explain_limits),
		cmocka_unit_test(test_explain_invalid_file),
		cmocka_unit_test(test_check_password_warning),
		cmocka_unit_test(test_explain_userdb),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}

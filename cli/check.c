/* check.c: `mailpolicy check [-v] FILE...`: loads each file exactly as
 * the plugins and the milter would and reports the first error of each
 * as "FILE:LINE:COL: reason" on stderr.  Quiet on success, as a
 * validator in a packaging hook or CI step should be; -v prints one
 * summary line per valid file.  A valid file may still get a warning on
 * stderr ("FILE:LINE: warning: ..."; the exit status stays 0): a Redis
 * password in a file others can read. */

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mailpolicy/policy.h"
#include "cli.h"

static void print_summary(const char *path, const struct mp_policy *policy)
{
	size_t listeners = mp_policy_listener_count(policy);
	const char *sep = "";

	printf("%s: OK:", path);
	if (mp_policy_has_retention(policy)) {
		printf("%s pop3_retention", sep);
		sep = ",";
	}
	if (mp_policy_has_folder_quota(policy)) {
		printf("%s folder_quota", sep);
		sep = ",";
	}
	if (listeners > 0) {
		printf("%s %zu listener%s", sep, listeners,
		       listeners == 1 ? "" : "s");
		sep = ",";
	}
	if (mp_policy_has_milter(policy)) {
		printf("%s milter", sep);
		sep = ",";
	}
	if (*sep == '\0')
		printf(" nothing configured");
	putchar('\n');
}

/* Warnings about a file that loads: a secret where others can read it.
   Every Dovecot mail process reads the policy file, so it is usually
   world-readable; a Redis password belongs in redis_password_file. */
static void warn_secrets(const char *path, const struct mp_policy *policy)
{
	const struct mp_milter_settings *m = mp_policy_milter(policy);
	struct stat st;

	if (m->redis_password == NULL || stat(path, &st) < 0 ||
	    (st.st_mode & S_IROTH) == 0)
		return;
	fprintf(stderr, "%s:%u: warning: rate_store carries a Redis password, "
		"and the file is readable by others (mode %04o); put it in "
		"redis_password_file, readable by the milter only\n", path,
		m->origin[MP_MILTER_RATE_STORE].line,
		(unsigned int)(st.st_mode & 07777));
}

/* Returns true when path loads. */
static bool check_one(const char *path, bool verbose)
{
	struct mp_policy *policy;
	struct mp_error error;

	if (mp_policy_load_file(NULL, path, &policy, &error) < 0) {
		fprintf(stderr, "%s\n", error.text);
		return false;
	}
	warn_secrets(path, policy);
	if (verbose)
		print_summary(path, policy);
	mp_policy_unref(&policy);
	return true;
}

int cli_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool verbose = false, ok = true;
	int c, i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", options, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			cli_usage(stdout);
			return cli_finish_output(CLI_EXIT_OK);
		default:
			return cli_option_error(argv, c);
		}
	}
	if (optind >= argc)
		return cli_usage_error("check: no FILE given");
	for (i = optind; i < argc; i++) {
		if (!check_one(argv[i], verbose))
			ok = false;
	}
	return cli_finish_output(ok ? CLI_EXIT_OK : CLI_EXIT_FAIL);
}

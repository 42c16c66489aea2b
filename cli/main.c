/* main.c: `mailpolicy`, the command-line tool of mailpolicy: dispatches
 * to the verbs (check, explain) and owns the usage text and the exit
 * statuses every verb shares (0 ok, 1 invalid policy, 2 usage). */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_usage(FILE *out)
{
	fputs("Usage: mailpolicy check [-v] FILE...\n"
	      "       mailpolicy explain FILE --user ADDR [--folder NAME] [--separator C]\n"
	      "                          [--userdb FIELD=VALUE]... [--listener NAME]\n"
	      "                          [--port N] [--login LOGIN] [--milter]\n"
	      "       mailpolicy explain FILE (--listener NAME | --port N | --milter)...\n"
	      "                          [--login LOGIN]\n"
	      "       mailpolicy --help | --version\n", out);
}

static void help(void)
{
	cli_usage(stdout);
	fputs("\n"
	      "Commands:\n"
	      "  check FILE...       validate policy files; errors as FILE:LINE:COL: reason\n"
	      "  explain FILE        print the effective policy and the block each value\n"
	      "                      comes from\n"
	      "\n"
	      "check options:\n"
	      "  -v, --verbose       print a one-line summary of each valid file\n"
	      "\n"
	      "explain options:\n"
	      "  -u, --user ADDR     the user: pop3_retention and folder_quota\n"
	      "  -f, --folder NAME   only the folder_quota rules governing this folder\n"
	      "  -s, --separator C   mailbox hierarchy separator (default /)\n"
	      "  -d, --userdb FIELD=VALUE\n"
	      "                      a userdb override, as the plugins read it\n"
	      "                      (pop3_retention_*, folder_quota_rule*)\n"
	      "  -l, --listener NAME the listener a session with {daemon_name} NAME gets\n"
	      "  -p, --port N        ... or, failing the name, one on port N\n"
	      "  -L, --login LOGIN   the listener's rate limits for this SMTP login, with\n"
	      "                      its rate_map (default: the --user)\n"
	      "  -m, --milter        the milter settings\n"
	      "\n"
	      "Exit status: 0 ok, 1 invalid or unreadable policy file, 2 usage error.\n"
	      "See mailpolicy(1) and mailpolicy.conf(5).\n", stdout);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list args;

	fputs("mailpolicy: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	cli_usage(stderr);
	return CLI_EXIT_USAGE;
}

int cli_option_error(char **argv, int ret)
{
	/* getopt_long() leaves the failing argument at argv[optind - 1]
	   for long options; for short ones optopt names the letter. */
	const char *arg = argv[optind - 1];

	if (ret == ':') {
		if (optopt != 0 && strncmp(arg, "--", 2) != 0)
			return cli_usage_error("option -%c needs a value", optopt);
		return cli_usage_error("option %s needs a value", arg);
	}
	if (optopt != 0)
		return cli_usage_error("unknown option -%c", optopt);
	return cli_usage_error("unknown option %s", arg);
}

int cli_finish_output(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailpolicy: write error: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	const char *verb;

	if (argc < 2)
		return cli_usage_error("no command given");
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		help();
		return cli_finish_output(CLI_EXIT_OK);
	}
	if (strcmp(verb, "--version") == 0 || strcmp(verb, "-V") == 0) {
		printf("mailpolicy %s\n", MAILPOLICY_VERSION);
		return cli_finish_output(CLI_EXIT_OK);
	}
	/* Each verb sees argv[0] = the verb, as getopt_long() expects. */
	if (strcmp(verb, "check") == 0)
		return cli_check(argc - 1, argv + 1);
	if (strcmp(verb, "explain") == 0)
		return cli_explain(argc - 1, argv + 1);
	if (verb[0] == '-')
		return cli_usage_error("unknown option %s", verb);
	return cli_usage_error("unknown command '%s'", verb);
}

#ifndef MAILPOLICY_CLI_H
#define MAILPOLICY_CLI_H

/* cli: the `mailpolicy` command.  main.c dispatches to one function per
 * verb; each parses its own options and returns the exit status. */

#include <stdio.h>

#ifndef MAILPOLICY_VERSION
#  define MAILPOLICY_VERSION "0.1.0"
#endif

/* Exit statuses, as documented in mailpolicy(1). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,	/* invalid policy file, or cannot read it */
	CLI_EXIT_USAGE = 2,
};

/* `mailpolicy check [-v] FILE...` */
int cli_check(int argc, char **argv);
/* `mailpolicy explain FILE [options]` */
int cli_explain(int argc, char **argv);

/* Prints the synopsis of every verb. */
void cli_usage(FILE *out);
/* Prints "mailpolicy: MESSAGE" and the usage on stderr; returns
   CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The message for a getopt_long() failure ('?' or ':'), as a usage
   error; argv and optopt are getopt's. */
int cli_option_error(char **argv, int ret);

/* Flushes and checks stdout; returns status, or CLI_EXIT_FAIL with a
   message when writing failed (a full disk, a closed pipe). */
int cli_finish_output(int status);

#endif

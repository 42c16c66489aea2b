/* explain.c: `mailpolicy explain FILE [options]`: loads the policy as
 * the plugins and the milter do and prints, for one user and/or one SMTP
 * listener, every effective value and the block it came from.  Option
 * parsing and the order of sections live here; the sections themselves
 * in explain-user.c and explain-smtp.c. */

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mailpolicy/policy.h"
#include "cli.h"
#include "explain.h"

#define EXPLAIN_MAX_USERDB 64

struct explain_args {
	const char *path;
	const char *user;
	/* --userdb FIELD=VALUE, as the plugins read them */
	const char *userdb[EXPLAIN_MAX_USERDB];
	size_t userdb_count;
	const char *folder;
	char separator;
	const char *listener;
	uint16_t port;
	/* the SMTP login for the listener's rate limits: --login, else
	   --user */
	const char *login;
	bool want_listener;
	bool want_milter;
};

static int parse_args(int argc, char **argv, struct explain_args *args_r)
{
	static const struct option options[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "folder", required_argument, NULL, 'f' },
		{ "separator", required_argument, NULL, 's' },
		{ "listener", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "milter", no_argument, NULL, 'm' },
		{ "userdb", required_argument, NULL, 'd' },
		{ "login", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *error;
	bool separator_set = false;
	int c;

	memset(args_r, 0, sizeof(*args_r));
	args_r->separator = '/';
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:f:s:l:p:md:L:h", options, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (optarg[0] == '\0')
				return cli_usage_error("explain: --user needs an address");
			args_r->user = optarg;
			break;
		case 'f':
			if (optarg[0] == '\0')
				return cli_usage_error("explain: --folder needs a folder name");
			args_r->folder = optarg;
			break;
		case 's':
			if (optarg[0] == '\0' || optarg[1] != '\0')
				return cli_usage_error("explain: --separator takes one character, not '%s'", optarg);
			args_r->separator = optarg[0];
			separator_set = true;
			break;
		case 'l':
			if (optarg[0] == '\0')
				return cli_usage_error("explain: --listener needs a name");
			args_r->listener = optarg;
			args_r->want_listener = true;
			break;
		case 'p':
			if (mp_units_parse_port(optarg, &args_r->port, &error) < 0)
				return cli_usage_error("explain: --port %s: %s", optarg, error);
			args_r->want_listener = true;
			break;
		case 'm':
			args_r->want_milter = true;
			break;
		case 'L':
			if (optarg[0] == '\0')
				return cli_usage_error("explain: --login needs a login");
			args_r->login = optarg;
			break;
		case 'd':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				return cli_usage_error("explain: --userdb takes FIELD=VALUE, not '%s'", optarg);
			if (args_r->userdb_count == EXPLAIN_MAX_USERDB)
				return cli_usage_error("explain: at most %d --userdb fields", EXPLAIN_MAX_USERDB);
			args_r->userdb[args_r->userdb_count++] = optarg;
			break;
		case 'h':
			cli_usage(stdout);
			return -1;
		default:
			return cli_option_error(argv, c);
		}
	}
	if (optind >= argc)
		return cli_usage_error("explain: no FILE given");
	if (optind + 1 < argc)
		return cli_usage_error("explain: one FILE only, got '%s' too", argv[optind + 1]);
	args_r->path = argv[optind];
	if (args_r->login != NULL && !args_r->want_listener)
		return cli_usage_error("explain: --login needs --listener or --port");
	if (args_r->login == NULL)
		args_r->login = args_r->user;
	if (args_r->user == NULL) {
		if (args_r->folder != NULL || separator_set ||
		    args_r->userdb_count > 0)
			return cli_usage_error("explain: --folder, --separator and --userdb need --user");
		if (!args_r->want_listener && !args_r->want_milter)
			return cli_usage_error("explain: --user ADDR is required (unless only --listener, --port or --milter is asked for)");
	}
	return 0;
}

/* The user's policy with the --userdb fields applied as the plugins
   apply them: a field that is not ours, or refused, is said on stderr
   and ignored. */
static struct mp_user_policy *user_policy(const struct explain_args *args,
					  struct mp_policy *policy)
{
	struct mp_user_policy *up;
	const char *error, *eq;
	char field[128];
	size_t i, len;
	int ret;

	if (mp_user_policy_new(NULL, policy, args->user, &up) < 0)
		return NULL;
	for (i = 0; i < args->userdb_count; i++) {
		eq = strchr(args->userdb[i], '=');
		len = (size_t)(eq - args->userdb[i]);
		if (len >= sizeof(field))
			len = sizeof(field) - 1;
		memcpy(field, args->userdb[i], len);
		field[len] = '\0';
		ret = mp_user_policy_set_field(up, field, eq + 1, &error);
		if (ret < 0)
			fprintf(stderr, "mailpolicy: userdb field %s ignored: "
				"%s\n", field, error);
		else if (ret == 0)
			fprintf(stderr, "mailpolicy: userdb field %s: not a "
				"mailpolicy field, or empty (ignored)\n", field);
	}
	return up;
}

static int explain(const struct explain_args *args, struct mp_policy *policy)
{
	struct mp_user_policy *up;
	FILE *out = stdout;
	bool first = true;
	int ret = 0;

	if (args->user != NULL) {
		up = user_policy(args, policy);
		if (up == NULL) {
			fprintf(stderr, "mailpolicy: out of memory\n");
			return CLI_EXIT_FAIL;
		}
		explain_retention(out, up);
		fputc('\n', out);
		if (args->folder == NULL)
			explain_folder_rules(out, up);
		else
			ret = explain_folder(out, up, args->folder,
					     args->separator);
		mp_user_policy_free(&up);
		if (ret < 0) {
			fprintf(stderr, "mailpolicy: out of memory\n");
			return CLI_EXIT_FAIL;
		}
		first = false;
	}
	if (args->want_listener) {
		if (!first)
			fputc('\n', out);
		explain_listener(out, policy, args->listener, args->port,
				 args->login);
		first = false;
	}
	if (args->want_milter) {
		if (!first)
			fputc('\n', out);
		explain_milter(out, policy);
	}
	return CLI_EXIT_OK;
}

int cli_explain(int argc, char **argv)
{
	struct explain_args args;
	struct mp_policy *policy;
	struct mp_error error;
	int ret;

	ret = parse_args(argc, argv, &args);
	if (ret != 0)
		return ret < 0 ? cli_finish_output(CLI_EXIT_OK) : ret;
	if (mp_policy_load_file(NULL, args.path, &policy, &error) < 0) {
		fprintf(stderr, "%s\n", error.text);
		return CLI_EXIT_FAIL;
	}
	ret = explain(&args, policy);
	mp_policy_unref(&policy);
	return cli_finish_output(ret);
}

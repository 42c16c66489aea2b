#include "lib.h"
#include "mp-dovecot-doveadm.h"
#include "pop3-retention-private.h"

static int cmd_status_run(struct doveadm_mail_cmd_context *ctx ATTR_UNUSED,
			  struct mail_user *user)
{
	doveadm_print(user->username);
	return 0;
}

MP_DOVEADM_INIT_FUNC(cmd_status_init)
{
	doveadm_print_header_simple("user");
	(void)ctx;
}

static struct doveadm_mail_cmd_context *cmd_status_alloc(void)
{
	struct doveadm_mail_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct doveadm_mail_cmd_context);
	ctx->v.init = cmd_status_init;
	ctx->v.run = cmd_status_run;
	doveadm_print_init("table");
	return ctx;
}

static struct doveadm_cmd_ver2 pop3_retention_commands[] = {
	{
		.name = "pop3-retention status",
		.usage = "-u <user>",
		.mail_cmd = cmd_status_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAMS_END
	},
};

void pop3_retention_doveadm_register(void)
{
	mp_doveadm_register(pop3_retention_commands,
			    N_ELEMENTS(pop3_retention_commands));
}

/* mp-dovecot-doveadm.c: doveadm command registration for our plugins on
 * 2.3 and 2.4 (see mp-dovecot-doveadm.h).  Every doveadm symbol is weak:
 * outside doveadm they are NULL and nothing here touches them. */

#include "lib.h"
#include "mp-dovecot-doveadm.h"

#include <sysexits.h>

bool mp_doveadm_available(void)
{
	return doveadm_cmd_register_ver2 != NULL &&
		mp_dovecot_binary_is("doveadm");
}

void mp_doveadm_register(struct doveadm_cmd_ver2 *cmds, unsigned int count)
{
	unsigned int i;

	if (!mp_doveadm_available())
		return;
	for (i = 0; i < count; i++)
		doveadm_cmd_register_ver2(&cmds[i]);
}

#if !MP_DOVECOT_24
static bool mp_doveadm_parse_arg(struct doveadm_mail_cmd_context *ctx ATTR_UNUSED,
				 int c ATTR_UNUSED)
{
	return TRUE;
}
#endif

void mp_doveadm_accept_params(struct doveadm_mail_cmd_context *ctx)
{
#if !MP_DOVECOT_24
	ctx->v.parse_arg = mp_doveadm_parse_arg;
#else
	(void)ctx;
#endif
}

bool mp_doveadm_param_bool(struct doveadm_mail_cmd_context *ctx,
			   const char *name)
{
	bool value = FALSE;

	return ctx->cctx != NULL &&
		doveadm_cmd_param_bool(ctx->cctx, name, &value) && value;
}

const char *mp_doveadm_param_str(struct doveadm_mail_cmd_context *ctx,
				 const char *name)
{
	const char *value;

	if (ctx->cctx == NULL || !doveadm_cmd_param_str(ctx->cctx, name, &value))
		return NULL;
	return value;
}

void mp_doveadm_usage_error(const char *cmd_name, const char *message)
{
	i_fatal_status(EX_USAGE, "%s: %s", cmd_name, message);
}

#ifndef MP_DOVECOT_DOVEADM_H
#define MP_DOVECOT_DOVEADM_H

/* mp-dovecot-doveadm: doveadm commands from a mail plugin, 2.3 and 2.4.
 *
 * doveadm loads our plugins like any mail process, through
 * `protocol doveadm { mail_plugins = ... }` (2.3) or
 * `protocol doveadm { mail_plugins { NAME = yes } }` (2.4), before it looks
 * up the command: register commands from NAME_plugin_preinit() (init is
 * too late).  The same .so is also loaded by pop3, imap, lmtp..., where
 * no doveadm symbol exists: every doveadm function a plugin calls is
 * declared weak below, so the .so loads everywhere, and
 * mp_doveadm_register() registers only inside doveadm.  A plugin that
 * calls another doveadm function adds a `#pragma weak` line for it here.
 *
 * Include this file in the .c files that define commands only, after
 * "lib.h".  The command struct and the mail-command framework
 * (DOVEADM_CMD_PARAMS_START, DOVEADM_CMD_MAIL_COMMON, -u/-A, -f
 * formatters) are Dovecot's own and the same on 2.3 and 2.4; what differs
 * is hidden by MP_DOVEADM_INIT_FUNC and mp_doveadm_param_*(). */

#include "mp-dovecot.h"
#include "doveadm-mail.h"
#include "doveadm-print.h"
#include "doveadm-cmd.h"

#pragma weak doveadm_cmd_register_ver2
#pragma weak doveadm_mail_cmd_alloc_size
#pragma weak doveadm_mail_failed_error
#pragma weak doveadm_mail_failed_storage
#pragma weak doveadm_mail_failed_mailbox
#pragma weak doveadm_print_init
#pragma weak doveadm_print_header
#pragma weak doveadm_print_header_simple
#pragma weak doveadm_print
#pragma weak doveadm_print_num
#pragma weak doveadm_print_sticky
#pragma weak doveadm_cmd_param_bool
#pragma weak doveadm_cmd_param_str
#pragma weak doveadm_cmd_param_int64
#pragma weak doveadm_exit_code

/* Defines a mail command's init function, whose signature differs:
   MP_DOVEADM_INIT_FUNC(cmd_x_init) { ... uses ctx ... } */
#if MP_DOVECOT_24
#  define MP_DOVEADM_INIT_FUNC(name) \
	static void name(struct doveadm_mail_cmd_context *ctx)
#else
#  define MP_DOVEADM_INIT_FUNC(name) \
	static void name(struct doveadm_mail_cmd_context *ctx, \
			 const char *const args[] ATTR_UNUSED)
#endif

/* Call in the command's alloc function.  Dovecot 2.3 passes a mail
   command's own parameters through getopt: only those with a short
   option get through (give every parameter one: DOVEADM_CMD_PARAM('t',
   "as-of", ...)), and only when the command has a parse_arg; this sets
   one that accepts them, the values are read with mp_doveadm_param_*().
   Nothing to do on 2.4. */
void mp_doveadm_accept_params(struct doveadm_mail_cmd_context *ctx);

/* True inside doveadm (the doveadm symbols exist). */
bool mp_doveadm_available(void);

/* Registers count commands when running inside doveadm, else does
   nothing.  The structs must stay valid (static storage). */
void mp_doveadm_register(struct doveadm_cmd_ver2 *cmds, unsigned int count);

/* A command's named parameter ("dry-run", "as-of"): FALSE when it was not
   given.  Both versions read ctx->cctx; these only save the NULL checks. */
bool mp_doveadm_param_bool(struct doveadm_mail_cmd_context *ctx,
			   const char *name);
const char *mp_doveadm_param_str(struct doveadm_mail_cmd_context *ctx,
				 const char *name);

/* A usage error: logs "Fatal: CMD_NAME: message" (stderr) and makes
   doveadm exit with EX_USAGE (64) before any user is touched.  Call it
   from the init function. */
void mp_doveadm_usage_error(const char *cmd_name, const char *message)
	ATTR_NORETURN;

#endif

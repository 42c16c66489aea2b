/* doveadm-pop3-retention.c: the admin's commands (DESIGN.md, "Interfaces").
 *
 *   doveadm pop3-retention sweep [-n|--dry-run] [--as-of TIME] (-u USER | -A)
 *     purges what the policy says has expired, in INBOX and in the folder
 *     of on_retrieve = move, and prints one row per message expunged
 *     (`-n`: that would be) and one total row per user.  Columns:
 *     mailbox uid uidl messages size reason; with -A doveadm adds the
 *     username first.  reason: retrieved | deferred | hidden | size; the
 *     total row has mailbox "*", no uid/uidl, reason "total".  TIME: a
 *     UNIX timestamp, 2026-12-31[T08:00:00Z] or +DURATION: decide as if
 *     the clock read TIME (-t TIME is the same: Dovecot 2.3 passes only
 *     options with a short form to a mail command).  Idempotent; safe to
 *     kill and rerun.
 *   doveadm pop3-retention status -u USER
 *     one row per INBOX message: uid uidl size retrieved expires state
 *     (times as UNIX timestamps, 0 = none; state new | retrieved |
 *     deferred | hidden).  Read only: a lost time shows as now.
 * Both print through doveadm's formatter (`-f tab`, `-f flow`, ...). */

#include "lib.h"
#include "ioloop.h"
#include "mail-namespace.h"
#include "mail-search-build.h"
#include "mp-dovecot-doveadm.h"
#include "pop3-retention-private.h"

#define CMD_SWEEP "pop3-retention sweep"
#define CMD_STATUS "pop3-retention status"

struct sweep_cmd_context {
	struct doveadm_mail_cmd_context ctx;
	bool dry_run;
	time_t as_of;
	/* per user, while it runs */
	const char *vname;
	uint32_t uid_validity;
};

/* The user's context when the policy is usable; NULL (and the command
   failed) when it cannot be loaded.  An inert user gets a context with
   active = FALSE. */
static struct pop3_retention_user *
cmd_user(struct doveadm_mail_cmd_context *ctx, struct mail_user *user)
{
	struct pop3_retention_user *puser = pop3_retention_user_get(user);

	if (puser == NULL) {
		e_error(user->event, "%s: the plugin is not loaded for doveadm "
			"(protocol doveadm { mail_plugins })",
			POP3_RETENTION_NAME);
		doveadm_mail_failed_error(ctx, MAIL_ERROR_NOTPOSSIBLE);
		return NULL;
	}
	if (puser->user_policy == NULL) {
		e_error(puser->event, "The policy cannot be loaded: nothing "
			"done (%s)", mp_dovecot_config_path(user));
		doveadm_mail_failed_error(ctx, MAIL_ERROR_TEMP);
		return NULL;
	}
	return puser;
}

static struct mailbox *
cmd_open_inbox(struct doveadm_mail_cmd_context *ctx, struct mail_user *user,
	       enum mailbox_flags flags)
{
	struct mail_namespace *ns = mail_namespace_find_inbox(user->namespaces);
	struct mailbox *box = mailbox_alloc(ns->list, "INBOX", flags);

	if (mailbox_open(box) < 0 || mailbox_sync(box, 0) < 0) {
		e_error(user->event, "Cannot open INBOX: %s",
			mailbox_get_last_internal_error(box, NULL));
		doveadm_mail_failed_mailbox(ctx, box);
		mailbox_free(&box);
		return NULL;
	}
	return box;
}

/* ---- sweep ---- */

static void sweep_expunged(void *context, struct mail *mail,
			   const struct pop3_retention_purge_msg *msg)
{
	struct sweep_cmd_context *sctx = context;

	doveadm_print(sctx->vname);
	doveadm_print_num(msg->uid);
	doveadm_print(pop3_retention_uidl(mail, sctx->uid_validity));
	doveadm_print("1");
	doveadm_print_num(msg->size);
	doveadm_print(mp_expire_reason_name(msg->reason));
}

static int sweep_mailbox(struct sweep_cmd_context *sctx, struct mail_user *user,
			 struct mailbox *box,
			 struct pop3_retention_purge_result *total)
{
	struct pop3_retention_purge_settings set = {
		.as_of = sctx->as_of,
		.dry_run = sctx->dry_run,
		.expunged = sweep_expunged,
		.context = sctx,
	};
	struct pop3_retention_purge_result result;
	struct mailbox_status status;

	mailbox_get_open_status(box, STATUS_UIDVALIDITY, &status);
	sctx->vname = mailbox_get_vname(box);
	sctx->uid_validity = status.uidvalidity;
	if (pop3_retention_purge_mailbox(user, box, &set, &result) < 0) {
		doveadm_mail_failed_mailbox(&sctx->ctx, box);
		return -1;
	}
	if (!sctx->dry_run)
		pop3_retention_purge_log(user, sctx->vname, "sweep", &result);
	total->expunged += result.expunged;
	total->bytes += result.bytes;
	return 0;
}

static int cmd_sweep_run(struct doveadm_mail_cmd_context *ctx,
			 struct mail_user *user)
{
	struct sweep_cmd_context *sctx =
		container_of(ctx, struct sweep_cmd_context, ctx);
	struct pop3_retention_user *puser = cmd_user(ctx, user);
	struct pop3_retention_purge_result total;
	struct mailbox *box;
	int ret = 0;

	if (puser == NULL)
		return -1;
	i_zero(&total);
	if (puser->active) {
		box = cmd_open_inbox(ctx, user, 0);
		if (box == NULL)
			return -1;
		ret = sweep_mailbox(sctx, user, box, &total);
		mailbox_free(&box);
		if (ret == 0 &&
		    puser->retention.on_retrieve == MP_RETRIEVE_MOVE) {
			box = pop3_retention_move_box_alloc(user);
			if (box != NULL && mailbox_open(box) == 0)
				ret = sweep_mailbox(sctx, user, box, &total);
			if (box != NULL)
				mailbox_free(&box);
		}
	}
	doveadm_print("*");
	doveadm_print("");
	doveadm_print("");
	doveadm_print_num(total.expunged);
	doveadm_print_num(total.bytes);
	doveadm_print("total");
	return ret;
}

MP_DOVEADM_INIT_FUNC(cmd_sweep_init)
{
	struct sweep_cmd_context *sctx =
		container_of(ctx, struct sweep_cmd_context, ctx);
	const char *as_of = mp_doveadm_param_str(ctx, "as-of");
	const char *error;
	uint64_t when;

	sctx->dry_run = mp_doveadm_param_bool(ctx, "dry-run");
	sctx->as_of = ioloop_time;
	if (as_of != NULL) {
		if (mp_retention_parse_time(as_of, ioloop_time, &when,
					    &error) < 0) {
			mp_doveadm_usage_error(CMD_SWEEP, t_strdup_printf(
				"--as-of %s: %s", as_of, error));
		}
		sctx->as_of = when > (uint64_t)INT64_MAX ?
			(time_t)INT64_MAX : (time_t)when;
	}
	doveadm_print_header_simple("mailbox");
	doveadm_print_header("uid", "uid", DOVEADM_PRINT_HEADER_FLAG_NUMBER);
	doveadm_print_header_simple("uidl");
	doveadm_print_header("messages", "messages",
			     DOVEADM_PRINT_HEADER_FLAG_NUMBER);
	doveadm_print_header("size", "size", DOVEADM_PRINT_HEADER_FLAG_NUMBER);
	doveadm_print_header_simple("reason");
}

static struct doveadm_mail_cmd_context *cmd_sweep_alloc(void)
{
	struct sweep_cmd_context *sctx;

	sctx = doveadm_mail_cmd_alloc(struct sweep_cmd_context);
	sctx->ctx.v.init = cmd_sweep_init;
	sctx->ctx.v.run = cmd_sweep_run;
	mp_doveadm_accept_params(&sctx->ctx);
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return &sctx->ctx;
}

/* ---- status ---- */

static int cmd_status_run(struct doveadm_mail_cmd_context *ctx,
			  struct mail_user *user)
{
	struct pop3_retention_user *puser = cmd_user(ctx, user);
	struct mailbox_transaction_context *t;
	struct mail_search_args *args;
	struct mail_search_context *search;
	struct mailbox_status status;
	struct mailbox *box;
	struct mail *mail;
	int ret = 0;

	if (puser == NULL)
		return -1;
	box = cmd_open_inbox(ctx, user, MAILBOX_FLAG_READONLY);
	if (box == NULL)
		return -1;
	mailbox_get_open_status(box, STATUS_UIDVALIDITY, &status);
	(void)pop3_retention_mailbox_get(box);
	t = mailbox_transaction_begin(box, 0, "pop3_retention status");
	args = mail_search_build_init();
	mail_search_build_add_all(args);
	search = mailbox_search_init(t, args, NULL, MAIL_FETCH_VIRTUAL_SIZE,
				     NULL);
	mail_search_args_unref(&args);
	while (mailbox_search_next(search, &mail)) {
		struct mp_retention_verdict verdict;
		struct mp_retention_msg msg;
		uoff_t size;

		pop3_retention_msg_read(mail, &msg);
		/* an inert user's retention is the built-in stock one */
		mp_retention_decide(&puser->retention, &msg, ioloop_time,
				    ioloop_time, &verdict);
		if (mail_get_virtual_size(mail, &size) < 0)
			size = 0;
		doveadm_print_num(mail->uid);
		doveadm_print(pop3_retention_uidl(mail, status.uidvalidity));
		doveadm_print_num(size);
		doveadm_print_num(verdict.retrieved_at);
		doveadm_print_num(puser->active ? verdict.expires : 0);
		doveadm_print(mp_msg_state_name(verdict.state));
	}
	if (mailbox_search_deinit(&search) < 0) {
		e_error(user->event, "Searching INBOX failed: %s",
			mailbox_get_last_internal_error(box, NULL));
		doveadm_mail_failed_mailbox(ctx, box);
		ret = -1;
	}
	(void)mailbox_transaction_commit(&t);
	mailbox_free(&box);
	return ret;
}

MP_DOVEADM_INIT_FUNC(cmd_status_init)
{
	if (mp_doveadm_param_bool(ctx, "all-users"))
		mp_doveadm_usage_error(CMD_STATUS, "takes -u USER, not -A");
	doveadm_print_header("uid", "uid", DOVEADM_PRINT_HEADER_FLAG_NUMBER);
	doveadm_print_header_simple("uidl");
	doveadm_print_header("size", "size", DOVEADM_PRINT_HEADER_FLAG_NUMBER);
	doveadm_print_header("retrieved", "retrieved",
			     DOVEADM_PRINT_HEADER_FLAG_NUMBER);
	doveadm_print_header("expires", "expires",
			     DOVEADM_PRINT_HEADER_FLAG_NUMBER);
	doveadm_print_header_simple("state");
}

static struct doveadm_mail_cmd_context *cmd_status_alloc(void)
{
	struct doveadm_mail_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct doveadm_mail_cmd_context);
	ctx->v.init = cmd_status_init;
	ctx->v.run = cmd_status_run;
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return ctx;
}

static struct doveadm_cmd_ver2 pop3_retention_commands[] = {
	{
		.name = CMD_SWEEP,
		.usage = "[-n|--dry-run] [--as-of <time>] (-u <user> | -A)",
		.mail_cmd = cmd_sweep_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAM('n', "dry-run", CMD_PARAM_BOOL, 0)
DOVEADM_CMD_PARAM('t', "as-of", CMD_PARAM_STR, 0)
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = CMD_STATUS,
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

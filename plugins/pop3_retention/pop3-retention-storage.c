/* pop3-retention-storage.c: the lib-storage hooks.
 *
 * In the INBOX of a POP3 session (MAILBOX_FLAG_POP3_SESSION) of an active
 * user:
 *   - a stream opened for "RETR" records the message's UID (TOP uses
 *     reason "TOP" and does not count);
 *   - the commit of the session's transaction once the client sent QUIT
 *     (the UPDATE state; stock pop3 commits exactly once then) stamps
 *     every recorded message as retrieved, in that same transaction, and
 *     sets \Seen when on_retrieve = seen.  A session without QUIT never
 *     gets here, so its RETRs never count;
 *   - with on_dele = defer or hide, pop3 applies a DELE at QUIT by adding
 *     $POP3Hidden (pop3-retention-pop3.c sets its delete type to "flag"):
 *     that keyword update also stamps the DELE and adds $POP3Deferred.
 *     No expunge happens, so lazy_expunge makes no copy of a kept DELE;
 *   - stock pop3's \Seen on retrieved mail is dropped when on_retrieve is
 *     none or move.
 * When the user's policy cannot be loaded, nobody knows what a DELE should
 * do (expunge, defer, hide): the QUIT applies none and fails, so the
 * client keeps its DELEs for a later session (RFC 1939: "-ERR some
 * deleted messages not removed").  Our own purges never run then.
 * Every mailbox: the keyword and extension ids are released on close. */

#include "lib.h"
#include "ioloop.h"
#include "array.h"
#include "pop3-common.h"
#include "pop3-retention-private.h"

struct pop3_retention_storage_module pop3_retention_storage_module =
	MODULE_CONTEXT_INIT(&mail_storage_module_register);
struct pop3_retention_mail_module pop3_retention_mail_module =
	MODULE_CONTEXT_INIT(&mail_module_register);

static struct pop3_retention_user *pop3_retention_box_user(struct mailbox *box)
{
	return POP3_RETENTION_USER_CONTEXT(box->storage->user);
}

/* Inside the QUIT of an active user's POP3 session. */
static bool pop3_retention_in_quit(struct pop3_retention_user *puser)
{
	return puser != NULL && puser->active && !puser->purging &&
		puser->pop3_client != NULL && puser->pop3_client->quit_seen;
}

static int
pop3_retention_mail_get_stream(struct mail *_mail, bool get_body,
			       struct message_size *hdr_size,
			       struct message_size *body_size,
			       struct istream **stream_r)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *pmail = POP3_RETENTION_MAIL_CONTEXT(mail);
	struct pop3_retention_user *puser = pop3_retention_box_user(_mail->box);

	if (pmail->super.get_stream(_mail, get_body, hdr_size, body_size,
				    stream_r) < 0)
		return -1;
	if (get_body && mail->get_stream_reason != NULL &&
	    strcmp(mail->get_stream_reason, "RETR") == 0 &&
	    puser->pop3_client != NULL) {
		if (!array_is_created(&puser->retr_uids))
			i_array_init(&puser->retr_uids, 64);
		seq_range_array_add(&puser->retr_uids, _mail->uid);
	}
	return 0;
}

static void
pop3_retention_mail_update_keywords(struct mail *_mail,
				    enum modify_type modify_type,
				    struct mail_keywords *keywords)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *pmail = POP3_RETENTION_MAIL_CONTEXT(mail);
	struct pop3_retention_user *puser = pop3_retention_box_user(_mail->box);
	struct pop3_retention_mailbox *pbox;

	if (modify_type == MODIFY_ADD && keywords->count == 1 &&
	    pop3_retention_in_quit(puser) &&
	    puser->retention.on_dele != MP_DELE_EXPUNGE) {
		pbox = pop3_retention_mailbox_get(_mail->box);
		if (keywords->idx[0] == pbox->kw_hidden->idx[0]) {
			/* pop3 applying a DELE by flagging it (our
			   pop3_delete_type, pop3-retention-pop3.c): kept,
			   hidden, deferred when so, stamped.  Straight to
			   super: through mail_update_keywords() this would
			   come back here. */
			pmail->super.update_keywords(_mail, MODIFY_ADD,
				puser->retention.on_dele == MP_DELE_DEFER ?
				pbox->kw_hidden_deferred : pbox->kw_hidden);
			pop3_retention_set_deleted_at(_mail,
				pop3_retention_time32(ioloop_time));
			return;
		}
	}
	pmail->super.update_keywords(_mail, modify_type, keywords);
}

static void
pop3_retention_mail_update_flags(struct mail *_mail,
				 enum modify_type modify_type,
				 enum mail_flags flags)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *pmail = POP3_RETENTION_MAIL_CONTEXT(mail);
	struct pop3_retention_user *puser = pop3_retention_box_user(_mail->box);

	if (modify_type == MODIFY_ADD && (flags & MAIL_SEEN) != 0 &&
	    puser->active && !puser->purging && puser->pop3_client != NULL &&
	    puser->retention.on_retrieve != MP_RETRIEVE_SEEN) {
		/* stock pop3 marks retrieved mail \Seen; the policy says no */
		flags &= ENUM_NEGATE(MAIL_SEEN);
		if (flags == 0)
			return;
	}
	pmail->super.update_flags(_mail, modify_type, flags);
}

/* The policy could not be loaded: a client's DELE, applied at QUIT, is
   refused (the QUIT's commit fails, see below). */
static void pop3_retention_mail_expunge_refused(struct mail *_mail)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *pmail = POP3_RETENTION_MAIL_CONTEXT(mail);
	struct pop3_retention_user *puser = pop3_retention_box_user(_mail->box);

	if (puser->pop3_client != NULL && puser->pop3_client->quit_seen &&
	    !puser->purging) {
		puser->dele_refused = TRUE;
		return;
	}
	pmail->super.expunge(_mail);
}

void pop3_retention_mail_allocated(struct mail *_mail)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	struct pop3_retention_mailbox *pbox = POP3_RETENTION_CONTEXT(_mail->box);
	struct pop3_retention_user *puser;
	struct mail_vfuncs *v = mail->vlast;
	union mail_module_context *pmail;

	if (pbox == NULL || !pbox->pop3_session)
		return;
	puser = pop3_retention_box_user(_mail->box);
	if (!puser->active && puser->user_policy != NULL)
		return;
	pmail = p_new(mail->pool, union mail_module_context, 1);
	pmail->super = *v;
	mail->vlast = &pmail->super;
	if (puser->active) {
		v->get_stream = pop3_retention_mail_get_stream;
		v->update_keywords = pop3_retention_mail_update_keywords;
		v->update_flags = pop3_retention_mail_update_flags;
	} else {
		v->expunge = pop3_retention_mail_expunge_refused;
	}
	MODULE_CONTEXT_SET_SELF(mail, pop3_retention_mail_module, pmail);
}

/* In the QUIT's transaction: stamp what this session retrieved. */
static void
pop3_retention_stamp_quit(struct mailbox_transaction_context *t,
			  struct pop3_retention_user *puser)
{
	struct seq_range_iter iter;
	struct mail *mail;
	unsigned int n = 0;
	uint32_t uid;

	if (!array_is_created(&puser->retr_uids))
		return;
	if (mailbox_is_readonly(t->box)) {
		/* pop3 changes nothing there either */
		return;
	}
	mail = mail_alloc(t, 0, NULL);
	seq_range_array_iter_init(&iter, &puser->retr_uids);
	while (seq_range_array_iter_nth(&iter, n++, &uid)) {
		if (!mail_set_uid(mail, uid))
			continue;
		pop3_retention_mark_retrieved(mail, ioloop_time);
		if (puser->retention.on_retrieve == MP_RETRIEVE_SEEN &&
		    (mail_get_flags(mail) & MAIL_SEEN) == 0)
			mail_update_flags(mail, MODIFY_ADD, MAIL_SEEN);
	}
	mail_free(&mail);
}

static int
pop3_retention_transaction_commit(struct mailbox_transaction_context *t,
				  struct mail_transaction_commit_changes *changes_r)
{
	struct mailbox *box = t->box;
	struct pop3_retention_mailbox *pbox = POP3_RETENTION_CONTEXT(box);
	struct pop3_retention_user *puser = pop3_retention_box_user(box);
	bool quit = pop3_retention_in_quit(puser) && !puser->quit_applied;
	int ret;

	if (puser->dele_refused) {
		puser->dele_refused = FALSE;
		e_error(puser->event, "The client's DELEs are not applied: "
			"the policy cannot be loaded (%s)",
			mp_dovecot_config_path(box->storage->user));
		mail_storage_set_error(box->storage, MAIL_ERROR_TEMP,
			"Some deleted messages not removed "
			"(the retention policy is unavailable), try again later");
		pbox->module_ctx.super.transaction_rollback(t);
		return -1;
	}
	if (quit) T_BEGIN {
		pop3_retention_stamp_quit(t, puser);
	} T_END;
	ret = pbox->module_ctx.super.transaction_commit(t, changes_r);
	if (quit && ret == 0)
		puser->quit_applied = TRUE;
	return ret;
}

static void pop3_retention_mailbox_close(struct mailbox *box)
{
	struct pop3_retention_mailbox *pbox = POP3_RETENTION_CONTEXT(box);

	pop3_retention_mailbox_free_ids(pbox);
	pbox->module_ctx.super.close(box);
}

void pop3_retention_mailbox_allocated(struct mailbox *box)
{
	struct mailbox_vfuncs *v = box->vlast;
	struct pop3_retention_mailbox *pbox;

	if (pop3_retention_box_user(box) == NULL)
		return;
	pbox = p_new(box->pool, struct pop3_retention_mailbox, 1);
	pbox->module_ctx.super = *v;
	box->vlast = &pbox->module_ctx.super;
	v->close = pop3_retention_mailbox_close;
	if ((box->flags & MAILBOX_FLAG_POP3_SESSION) != 0) {
		pbox->pop3_session = TRUE;
		v->transaction_commit = pop3_retention_transaction_commit;
	}
	MODULE_CONTEXT_SET(box, pop3_retention_storage_module, pbox);
}

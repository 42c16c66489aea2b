/* pop3-retention-session.c: the end of a POP3 session.
 *
 * Runs from the user's deinit_pre, after pop3 closed the client's
 * connection and its INBOX (the client does not wait), like Dovecot's own
 * autoexpunge: first on_retrieve = move for what this session retrieved
 * (only when it reached QUIT), then a bounded purge of INBOX and of the
 * move folder. */

#include "lib.h"
#include "array.h"
#include "ioloop.h"
#include "mail-namespace.h"
#include "pop3-retention-private.h"

/* Opens (creating it when missing) the mailbox of on_retrieve = move. */
static struct mailbox *
pop3_retention_open_move_box(struct mail_user *user, bool create)
{
	struct pop3_retention_user *puser = pop3_retention_user_get(user);
	struct mailbox *box = pop3_retention_move_box_alloc(user);
	const char *vname;
	enum mail_error error;

	if (box == NULL)
		return NULL;
	vname = mailbox_get_vname(box);
	if (mailbox_open(box) == 0)
		return box;
	(void)mailbox_get_last_internal_error(box, &error);
	if (error == MAIL_ERROR_NOTFOUND && create) {
		if (mailbox_create(box, NULL, FALSE) < 0) {
			(void)mailbox_get_last_internal_error(box, &error);
			if (error != MAIL_ERROR_EXISTS) {
				e_error(puser->event, "Cannot create %s for "
					"on_retrieve = move: %s", vname,
					mailbox_get_last_internal_error(box, NULL));
				mailbox_free(&box);
				return NULL;
			}
		} else {
			(void)mailbox_set_subscribed(box, TRUE);
		}
		if (mailbox_open(box) == 0)
			return box;
	}
	if (error != MAIL_ERROR_NOTFOUND) {
		e_error(puser->event, "Cannot open %s (on_retrieve = move): %s",
			vname, mailbox_get_last_internal_error(box, NULL));
	}
	mailbox_free(&box);
	return NULL;
}

/* Stamps the moved messages in dest with their retrieval times. */
static void
pop3_retention_stamp_moved(struct mailbox *dest,
			   const ARRAY_TYPE(seq_range) *saved_uids,
			   const ARRAY_TYPE(uint32_t) *times)
{
	struct mailbox_transaction_context *t;
	struct seq_range_iter iter;
	struct mail *mail;
	unsigned int n = 0;
	uint32_t uid;

	t = mailbox_transaction_begin(dest, 0, "pop3_retention move");
	mail = mail_alloc(t, 0, NULL);
	seq_range_array_iter_init(&iter, saved_uids);
	while (n < array_count(times) &&
	       seq_range_array_iter_nth(&iter, n, &uid)) {
		if (mail_set_uid(mail, uid)) {
			pop3_retention_set_retrieved_at(
				mail, *array_idx(times, n));
		}
		n++;
	}
	mail_free(&mail);
	if (mailbox_transaction_commit(&t) < 0) {
		/* the marker moved with them: they get "now" (longer) */
		e_warning(pop3_retention_user_get(dest->storage->user)->event,
			  "Cannot stamp the moved messages in %s: %s",
			  mailbox_get_vname(dest),
			  mailbox_get_last_internal_error(dest, NULL));
	}
}

/* on_retrieve = move: what this session retrieved (and did not DELE)
   moves to the folder, with its first-retrieval time. */
static void
pop3_retention_move_retrieved(struct mail_user *user, struct mailbox *inbox)
{
	struct pop3_retention_user *puser = pop3_retention_user_get(user);
	struct mailbox_transaction_context *src_t, *dest_t;
	struct mail_transaction_commit_changes changes;
	struct mail_save_context *save_ctx;
	struct seq_range_iter iter;
	ARRAY_TYPE(uint32_t) times;
	struct mailbox *dest;
	struct mail *mail;
	unsigned int n = 0;
	uint32_t uid;
	int ret = 0;

	dest = pop3_retention_open_move_box(user, TRUE);
	if (dest == NULL)
		return;
	if (strcmp(mailbox_get_vname(dest), mailbox_get_vname(inbox)) == 0) {
		mailbox_free(&dest);
		return;
	}
	t_array_init(&times, 64);
	src_t = mailbox_transaction_begin(inbox, 0, "pop3_retention move");
	dest_t = mailbox_transaction_begin(dest,
		MAILBOX_TRANSACTION_FLAG_EXTERNAL |
		MAILBOX_TRANSACTION_FLAG_ASSIGN_UIDS, "pop3_retention move");
	mail = mail_alloc(src_t, 0, NULL);
	seq_range_array_iter_init(&iter, &puser->retr_uids);
	while (seq_range_array_iter_nth(&iter, n++, &uid)) {
		struct mp_retention_msg msg;

		if (!mail_set_uid(mail, uid))
			continue;	/* DELE'd and expunged */
		pop3_retention_msg_read(mail, &msg);
		if (!msg.retrieved || msg.dele != MP_MSG_DELE_NONE)
			continue;	/* a kept DELE stays hidden in INBOX */
		save_ctx = mailbox_save_alloc(dest_t);
		mailbox_save_copy_flags(save_ctx, mail);
		if (mailbox_move(&save_ctx, mail) < 0) {
			e_error(puser->event, "Cannot move UID %u to %s: %s",
				uid, mailbox_get_vname(dest),
				mailbox_get_last_internal_error(dest, NULL));
			ret = -1;
			break;
		}
		array_push_back(&times, &(uint32_t){ msg.retrieved_at });
	}
	mail_free(&mail);
	if (ret < 0 || array_count(&times) == 0) {
		mailbox_transaction_rollback(&dest_t);
		mailbox_transaction_rollback(&src_t);
	} else if (mailbox_transaction_commit_get_changes(&dest_t, &changes) < 0) {
		e_error(puser->event, "Cannot move to %s: %s",
			mailbox_get_vname(dest),
			mailbox_get_last_internal_error(dest, NULL));
		mailbox_transaction_rollback(&src_t);
	} else {
		if (mailbox_transaction_commit(&src_t) < 0) {
			/* copies exist: the originals stay too, nothing lost */
			e_error(puser->event, "Cannot expunge the moved "
				"messages from %s: %s", mailbox_get_vname(inbox),
				mailbox_get_last_internal_error(inbox, NULL));
		}
		pop3_retention_stamp_moved(dest, &changes.saved_uids, &times);
		e_debug(puser->event, "Moved %u retrieved message%s to %s",
			array_count(&times), array_count(&times) == 1 ? "" : "s",
			mailbox_get_vname(dest));
		pool_unref(&changes.pool);
		(void)mailbox_sync(inbox, 0);
	}
	mailbox_free(&dest);
}

static void
pop3_retention_session_purge(struct mail_user *user, struct mailbox *box)
{
	struct pop3_retention_purge_settings set = {
		.as_of = ioloop_time,
		.max_expunges = POP3_RETENTION_SESSION_MAX_EXPUNGES,
		.max_examined = POP3_RETENTION_SESSION_MAX_EXAMINED,
	};
	struct pop3_retention_purge_result result;

	if (pop3_retention_purge_mailbox(user, box, &set, &result) == 0)
		pop3_retention_purge_log(user, mailbox_get_vname(box),
					 "session", &result);
}

void pop3_retention_session_end(struct mail_user *user)
{
	struct pop3_retention_user *puser = pop3_retention_user_get(user);
	struct mail_namespace *ns;
	struct mailbox *inbox, *moved;

	if (!puser->active)
		return;
	ns = mail_namespace_find_inbox(user->namespaces);
	inbox = mailbox_alloc(ns->list, "INBOX", 0);
	if (mailbox_open(inbox) < 0) {
		e_error(puser->event, "Cannot open INBOX: %s",
			mailbox_get_last_internal_error(inbox, NULL));
		mailbox_free(&inbox);
		return;
	}
	if (puser->quit_applied &&
	    puser->retention.on_retrieve == MP_RETRIEVE_MOVE &&
	    array_is_created(&puser->retr_uids))
		pop3_retention_move_retrieved(user, inbox);
	pop3_retention_session_purge(user, inbox);
	mailbox_free(&inbox);

	if (puser->retention.on_retrieve == MP_RETRIEVE_MOVE) {
		moved = pop3_retention_open_move_box(user, FALSE);
		if (moved != NULL) {
			pop3_retention_session_purge(user, moved);
			mailbox_free(&moved);
		}
	}
}

/* pop3-retention-purge.c: the purge of one mailbox, shared by the end of
 * a POP3 session and `doveadm pop3-retention sweep`.
 *
 * Only the messages the plugin tracks are looked at (a keyword search,
 * index only): retrieved ones and kept DELEs.  Each is decided by the
 * core (mp_retention_decide); a lost time is re-stamped; expired ones are
 * expunged, then, when max_retained_size is set, the earliest retrieved
 * of the rest until they fit.  One transaction, then a sync, so quota
 * (and lazy_expunge, which copies on expunge) see the expunges at once.
 * Idempotent: a killed purge leaves either nothing or a committed batch,
 * and a rerun decides again from what is stored. */

#include "lib.h"
#include "array.h"
#include "ioloop.h"
#include "mail-search.h"
#include "pop3-retention-private.h"

struct pop3_retention_purge {
	struct mail_user *user;
	struct pop3_retention_user *puser;
	const struct pop3_retention_purge_settings *set;
	struct pop3_retention_purge_result *result;
	bool stop;
};

static void
pop3_retention_expunge(struct pop3_retention_purge *purge, struct mail *mail,
		       uoff_t size, enum mp_expire_reason reason,
		       const struct mp_retention_verdict *verdict)
{
	const struct pop3_retention_purge_settings *set = purge->set;
	struct pop3_retention_purge_result *result = purge->result;
	struct pop3_retention_purge_msg msg = {
		.uid = mail->uid,
		.size = size,
		.reason = reason,
		.verdict = verdict,
	};

	if (set->max_expunges != 0 && result->expunged >= set->max_expunges) {
		result->limited = TRUE;
		purge->stop = TRUE;
		return;
	}
	if (set->expunged != NULL)
		set->expunged(set->context, mail, &msg);
	if (!set->dry_run) {
		purge->puser->purging = TRUE;
		mail_expunge(mail);
		purge->puser->purging = FALSE;
	}
	result->expunged++;
	result->bytes += size;
	result->by_reason[reason]++;
}

static uoff_t pop3_retention_mail_size(struct mail *mail)
{
	uoff_t size;

	if (mail_get_virtual_size(mail, &size) < 0)
		return 0;
	return size;
}

static int item_uid_cmp(const struct mp_retention_item *a,
			const struct mp_retention_item *b)
{
	return a->order < b->order ? -1 : (a->order > b->order ? 1 : 0);
}

/* Expunges the retained messages over max_retained_size. */
static void
pop3_retention_purge_cap(struct pop3_retention_purge *purge,
			 struct mailbox_transaction_context *t,
			 ARRAY_TYPE(mp_retention_item_arr) *items)
{
	struct mp_retention_item *item;
	struct mail *mail;
	unsigned int count;

	item = array_get_modifiable(items, &count);
	if (mp_retention_over_cap(purge->puser->retention.max_retained_size,
				  item, count) == 0)
		return;
	/* expunge in UID order, as a reader of the report expects */
	array_sort(items, item_uid_cmp);
	mail = mail_alloc(t, MAIL_FETCH_VIRTUAL_SIZE, NULL);
	array_foreach_modifiable(items, item) {
		if (!item->over_cap)
			continue;
		if (!mail_set_uid(mail, item->order))
			continue;
		struct mp_retention_verdict verdict;
		struct mp_retention_msg msg;

		pop3_retention_msg_read(mail, &msg);
		mp_retention_decide(&purge->puser->retention, &msg, ioloop_time,
				    purge->set->as_of, &verdict);
		verdict.reason = MP_EXPIRE_SIZE;
		pop3_retention_expunge(purge, mail, item->size, MP_EXPIRE_SIZE,
				       &verdict);
		if (purge->stop)
			break;
	}
	mail_free(&mail);
}

int pop3_retention_purge_mailbox(struct mail_user *user, struct mailbox *box,
				 const struct pop3_retention_purge_settings *set,
				 struct pop3_retention_purge_result *result_r)
{
	struct pop3_retention_purge purge = {
		.user = user,
		.puser = pop3_retention_user_get(user),
		.set = set,
		.result = result_r,
	};
	const struct mp_retention *policy = &purge.puser->retention;
	struct mailbox_transaction_context *t;
	struct mail_search_args *args;
	struct mail_search_context *ctx;
	ARRAY_TYPE(mp_retention_item_arr) items;
	struct mail *mail;
	int ret = 0;

	i_zero(result_r);
	i_assert(purge.puser != NULL && purge.puser->active);
	if (mailbox_sync(box, 0) < 0) {
		e_error(purge.puser->event, "Cannot sync %s: %s",
			mailbox_get_vname(box),
			mailbox_get_last_internal_error(box, NULL));
		return -1;
	}
	(void)pop3_retention_mailbox_get(box);

	t_array_init(&items, 64);
	t = mailbox_transaction_begin(box, 0, "pop3_retention purge");
	args = pop3_retention_search_tracked(box);
	/* sizes only when they are needed (expunged, or the cap) */
	ctx = mailbox_search_init(t, args, NULL, 0, NULL);
	while (!purge.stop && mailbox_search_next(ctx, &mail)) {
		struct mp_retention_verdict verdict;
		struct mp_retention_msg msg;
		uoff_t size;

		if (set->max_examined != 0 &&
		    result_r->examined >= set->max_examined) {
			result_r->limited = TRUE;
			result_r->cap_skipped = TRUE;
			break;
		}
		result_r->examined++;
		pop3_retention_msg_read(mail, &msg);
		mp_retention_decide(policy, &msg, ioloop_time, set->as_of,
				    &verdict);
		if (verdict.state == MP_MSG_NEW)
			continue;
		if (!set->dry_run && verdict.restamp_retrieved)
			pop3_retention_set_retrieved_at(
				mail, (uint32_t)verdict.retrieved_at);
		if (!set->dry_run && verdict.restamp_deleted)
			pop3_retention_set_deleted_at(
				mail, (uint32_t)verdict.deleted_at);
		if (verdict.restamp_retrieved || verdict.restamp_deleted)
			result_r->restamped++;
		if (verdict.expired) {
			size = pop3_retention_mail_size(mail);
			pop3_retention_expunge(&purge, mail, size,
					       verdict.reason, &verdict);
		} else if (policy->max_retained_size != 0) {
			size = pop3_retention_mail_size(mail);
			struct mp_retention_item *item = array_append_space(&items);

			item->clock = verdict.clock;
			item->size = size;
			item->order = mail->uid;
		}
	}
	if (mailbox_search_deinit(&ctx) < 0) {
		e_error(purge.puser->event, "Searching %s failed: %s",
			mailbox_get_vname(box),
			mailbox_get_last_internal_error(box, NULL));
		ret = -1;
	}
	mail_search_args_deinit(args);
	mail_search_args_unref(&args);

	if (ret == 0 && !purge.stop && !result_r->cap_skipped &&
	    policy->max_retained_size != 0)
		pop3_retention_purge_cap(&purge, t, &items);

	if (ret < 0 || set->dry_run) {
		mailbox_transaction_rollback(&t);
		return ret;
	}
	if (mailbox_transaction_commit(&t) < 0) {
		e_error(purge.puser->event, "Cannot commit the purge of %s: %s",
			mailbox_get_vname(box),
			mailbox_get_last_internal_error(box, NULL));
		return -1;
	}
	/* apply the expunges now: quota frees the space at once */
	if (result_r->expunged > 0 && mailbox_sync(box, 0) < 0) {
		e_error(purge.puser->event, "Cannot sync %s after the purge: %s",
			mailbox_get_vname(box),
			mailbox_get_last_internal_error(box, NULL));
		return -1;
	}
	return 0;
}

void pop3_retention_purge_log(struct mail_user *user, const char *vname,
			      const char *trigger,
			      const struct pop3_retention_purge_result *result)
{
	struct pop3_retention_user *puser = pop3_retention_user_get(user);
	struct event *event;

	if (result->expunged == 0)
		return;
	event = event_create(puser->event);
	event_set_name(event, "pop3_retention_purge");
	event_add_str(event, "user", user->username);
	event_add_str(event, "mailbox", vname);
	event_add_str(event, "trigger", trigger);
	event_add_int(event, "messages", result->expunged);
	event_add_int(event, "bytes", result->bytes);
	e_info(event, "%s: expunged %u message%s (%"PRIu64" bytes) from %s: "
	       "%u retrieved, %u deferred, %u hidden, %u over "
	       "max_retained_size%s", trigger, result->expunged,
	       result->expunged == 1 ? "" : "s", result->bytes, vname,
	       result->by_reason[MP_EXPIRE_RETRIEVED],
	       result->by_reason[MP_EXPIRE_DEFERRED],
	       result->by_reason[MP_EXPIRE_HIDDEN],
	       result->by_reason[MP_EXPIRE_SIZE],
	       result->limited ? " (limit reached, more next time)" : "");
	event_unref(&event);
}

/* pop3-retention-state.c: where a message's retention state lives.
 *
 * Markers are IMAP keywords, so that they survive what the index does not
 * (an index rebuild, `doveadm force-resync`, a dsync replica):
 * $POP3Retrieved (retrieved in a session that reached QUIT), $POP3Hidden
 * (a DELE the plugin kept, gone from POP3) and $POP3Deferred (that DELE is
 * deferred).  Times (first retrieval, the DELE's QUIT) are 32-bit UNIX
 * times in two index extensions; a marker without its time was lost and
 * is re-stamped by whoever next decides about the message. */

#include "lib.h"
#include "array.h"
#include "mail-index.h"
#include "mail-search-build.h"
#include "pop3-retention-private.h"

static const char *const pop3_retention_kw_names[] = {
	POP3_RETENTION_KW_RETRIEVED,
	POP3_RETENTION_KW_HIDDEN,
	POP3_RETENTION_KW_DEFERRED,
	NULL
};

static struct mail_keywords *
pop3_retention_keywords(struct mailbox *box, const char *name1,
			const char *name2)
{
	const char *names[3] = { name1, name2, NULL };

	return mailbox_keywords_create_valid(box, names);
}

struct pop3_retention_mailbox *pop3_retention_mailbox_get(struct mailbox *box)
{
	struct pop3_retention_mailbox *pbox = POP3_RETENTION_CONTEXT(box);

	i_assert(pbox != NULL);
	if (pbox->ids_ready)
		return pbox;
	i_assert(box->opened);
	pbox->kw_retrieved = pop3_retention_keywords(
		box, pop3_retention_kw_names[0], NULL);
	pbox->kw_hidden = pop3_retention_keywords(
		box, pop3_retention_kw_names[1], NULL);
	pbox->kw_deferred = pop3_retention_keywords(
		box, pop3_retention_kw_names[2], NULL);
	pbox->kw_hidden_deferred = pop3_retention_keywords(
		box, pop3_retention_kw_names[1], pop3_retention_kw_names[2]);
	i_assert(pbox->kw_retrieved->count == 1 &&
		 pbox->kw_hidden->count == 1 &&
		 pbox->kw_deferred->count == 1);
	pbox->ext_retrieved = mail_index_ext_register(
		box->index, POP3_RETENTION_EXT_RETRIEVED, 0,
		sizeof(uint32_t), sizeof(uint32_t));
	pbox->ext_deleted = mail_index_ext_register(
		box->index, POP3_RETENTION_EXT_DELETED, 0,
		sizeof(uint32_t), sizeof(uint32_t));
	pbox->ids_ready = TRUE;
	return pbox;
}

void pop3_retention_mailbox_free_ids(struct pop3_retention_mailbox *pbox)
{
	if (!pbox->ids_ready)
		return;
	mailbox_keywords_unref(&pbox->kw_retrieved);
	mailbox_keywords_unref(&pbox->kw_hidden);
	mailbox_keywords_unref(&pbox->kw_deferred);
	mailbox_keywords_unref(&pbox->kw_hidden_deferred);
	pbox->ids_ready = FALSE;
}

static bool
pop3_retention_has_keyword(const ARRAY_TYPE(keyword_indexes) *kw_indexes,
			   const struct mail_keywords *kw)
{
	unsigned int idx;

	array_foreach_elem(kw_indexes, idx) {
		if (idx == kw->idx[0])
			return TRUE;
	}
	return FALSE;
}

static uint32_t pop3_retention_read_time(struct mail *mail, uint32_t ext_id)
{
	const void *data;
	bool expunged;
	uint32_t when;

	mail_index_lookup_ext(mail->transaction->view, mail->seq, ext_id,
			      &data, &expunged);
	if (data == NULL)
		return 0;
	memcpy(&when, data, sizeof(when));
	return when;
}

void pop3_retention_msg_read(struct mail *mail, struct mp_retention_msg *msg_r)
{
	struct pop3_retention_mailbox *pbox =
		pop3_retention_mailbox_get(mail->box);
	const ARRAY_TYPE(keyword_indexes) *kw = mail_get_keyword_indexes(mail);

	i_zero(msg_r);
	msg_r->retrieved = pop3_retention_has_keyword(kw, pbox->kw_retrieved);
	if (msg_r->retrieved) {
		msg_r->retrieved_at =
			pop3_retention_read_time(mail, pbox->ext_retrieved);
	}
	if (pop3_retention_has_keyword(kw, pbox->kw_hidden)) {
		msg_r->dele = pop3_retention_has_keyword(kw, pbox->kw_deferred) ?
			MP_MSG_DELE_DEFERRED : MP_MSG_DELE_HIDDEN;
		msg_r->deleted_at =
			pop3_retention_read_time(mail, pbox->ext_deleted);
	} else if (pop3_retention_has_keyword(kw, pbox->kw_deferred)) {
		/* deferred without hidden: someone removed the other keyword
		   by hand; still the plugin's kept DELE */
		msg_r->dele = MP_MSG_DELE_DEFERRED;
		msg_r->deleted_at =
			pop3_retention_read_time(mail, pbox->ext_deleted);
	}
}

uint32_t pop3_retention_time32(time_t when)
{
	if (when <= 0)
		return 1;	/* 0 means "lost" */
	return (uint64_t)when > UINT32_MAX ? UINT32_MAX : (uint32_t)when;
}

void pop3_retention_set_retrieved_at(struct mail *mail, uint32_t when)
{
	struct pop3_retention_mailbox *pbox =
		pop3_retention_mailbox_get(mail->box);

	mail_index_update_ext(mail->transaction->itrans, mail->seq,
			      pbox->ext_retrieved, &when, NULL);
}

void pop3_retention_set_deleted_at(struct mail *mail, uint32_t when)
{
	struct pop3_retention_mailbox *pbox =
		pop3_retention_mailbox_get(mail->box);

	mail_index_update_ext(mail->transaction->itrans, mail->seq,
			      pbox->ext_deleted, &when, NULL);
}

void pop3_retention_mark_retrieved(struct mail *mail, time_t now)
{
	struct pop3_retention_mailbox *pbox =
		pop3_retention_mailbox_get(mail->box);
	struct mp_retention_msg msg;

	pop3_retention_msg_read(mail, &msg);
	if (!msg.retrieved)
		mail_update_keywords(mail, MODIFY_ADD, pbox->kw_retrieved);
	if (msg.retrieved_at == 0) {
		pop3_retention_set_retrieved_at(mail,
						pop3_retention_time32(now));
	}
}

static struct mail_search_arg *
pop3_retention_keyword_arg(pool_t pool, const char *name,
			   struct mail_search_arg *next)
{
	struct mail_search_arg *arg = p_new(pool, struct mail_search_arg, 1);

	arg->type = SEARCH_KEYWORDS;
	arg->value.str = p_strdup(pool, name);
	arg->next = next;
	return arg;
}

struct mail_search_args *pop3_retention_search_tracked(struct mailbox *box)
{
	struct mail_search_args *args = mail_search_build_init();
	struct mail_search_arg *or_arg;

	or_arg = mail_search_build_add(args, SEARCH_OR);
	or_arg->value.subargs = pop3_retention_keyword_arg(
		args->pool, POP3_RETENTION_KW_RETRIEVED,
		pop3_retention_keyword_arg(args->pool, POP3_RETENTION_KW_HIDDEN,
			pop3_retention_keyword_arg(args->pool,
				POP3_RETENTION_KW_DEFERRED, NULL)));
	mail_search_args_init(args, box, FALSE, NULL);
	return args;
}

/* folder-quota-expunge.c: what happens when a save would pass a folder
 * limit.
 *
 * The quota plugin asks its test_alloc hook whether a save fits (the
 * trash plugin hooks in the same way).  When the stock check refuses and
 * one of our roots is over:
 * - when_full = expunge_oldest: the target folder's oldest messages (by
 *   save date) are chosen until the save fits that root, never more, and
 *   only when no other root would still refuse it (else none is); then
 *   the check is made again.  The chosen messages are expunged when the
 *   saving transaction commits, never when it does not (struct
 *   fq_expunge_plan): a MULTIAPPEND or COPY refused at a later message
 *   costs no mail, and a COPY within the folder copies first.
 * - otherwise the refusal stands, with a text naming the folder (the
 *   client sees NO [OVERQUOTA] and it), and in LMTP/LDA a log line: the
 *   delivery goes on to INBOX, which no folder limit refuses there. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-search-build.h"
#include "mail-namespace.h"
#include "mailbox-list-private.h"

#include "folder-quota-plugin.h"

struct fq_expunge_mail {
	uint32_t uid;
	time_t saved;
	uoff_t size;
};

static int fq_expunge_mail_cmp(const struct fq_expunge_mail *m1,
			       const struct fq_expunge_mail *m2)
{
	if (m1->saved != m2->saved)
		return m1->saved < m2->saved ? -1 : 1;
	return m1->uid < m2->uid ? -1 : (m1->uid > m2->uid ? 1 : 0);
}

static bool fq_expunge_plan_has(const struct fq_expunge_plan *plan,
				uint32_t uid)
{
	const uint32_t *planned;

	if (!array_is_created(&plan->uids))
		return FALSE;
	array_foreach(&plan->uids, planned) {
		if (*planned == uid)
			return TRUE;
	}
	return FALSE;
}

int fq_expunge_choose(struct fq_user *fuser, struct mailbox *target,
		      struct fq_expunge_plan *plan, struct fq_root *froot,
		      uint64_t bytes_needed, uint64_t count_needed,
		      uint64_t others_bytes, uint64_t others_count,
		      uint64_t *bytes_freed_r, uint64_t *count_freed_r)
{
	const char *vname = mailbox_get_vname(target);
	struct mailbox *box;
	struct mailbox_transaction_context *t;
	struct mail_search_args *search_args;
	struct mail_search_context *search_ctx;
	struct mail *mail;
	ARRAY(struct fq_expunge_mail) mails;
	struct fq_expunge_mail *m;
	uint64_t bytes = 0, count = 0;
	unsigned int i, n = 0;
	int ret = 1;

	*bytes_freed_r = *count_freed_r = 0;
	/* the target's own instance may be open for saving only: look at
	   the folder through one of our own */
	box = mailbox_alloc(target->list, vname, MAILBOX_FLAG_READONLY);
	if (mailbox_open(box) < 0 ||
	    mailbox_sync(box, MAILBOX_SYNC_FLAG_FULL_READ) < 0) {
		e_error(fuser->event, "expunge_oldest: cannot open %s: %s",
			vname, mailbox_get_last_internal_error(box, NULL));
		mailbox_free(&box);
		return -1;
	}

	t = mailbox_transaction_begin(box, 0, "folder_quota expunge_oldest");
	search_args = mail_search_build_init();
	mail_search_build_add_all(search_args);
	search_ctx = mailbox_search_init(t, search_args, NULL,
					 MAIL_FETCH_SAVE_DATE |
					 MAIL_FETCH_VIRTUAL_SIZE, NULL);
	mail_search_args_unref(&search_args);

	t_array_init(&mails, 64);
	while (mailbox_search_next(search_ctx, &mail)) {
		if (fq_expunge_plan_has(plan, mail->uid)) {
			/* already chosen for an earlier save */
			continue;
		}
		m = array_append_space(&mails);
		m->uid = mail->uid;
		if (mail_get_save_date(mail, &m->saved) < 0 || m->saved <= 0)
			(void)mail_get_received_date(mail, &m->saved);
		if (mail_get_virtual_size(mail, &m->size) < 0) {
			/* expunged meanwhile: nothing to free there */
			array_pop_back(&mails);
		}
	}
	if (mailbox_search_deinit(&search_ctx) < 0)
		ret = -1;
	mailbox_transaction_rollback(&t);
	mailbox_free(&box);

	if (ret > 0) {
		/* oldest first; take only as many as the save needs */
		array_sort(&mails, fq_expunge_mail_cmp);
		array_foreach_modifiable(&mails, m) {
			if (bytes >= bytes_needed && count >= count_needed)
				break;
			bytes += m->size;
			count++;
			n++;
		}
		/* the same mail must also make room in the other roots that
		   refuse (the user's): else nothing is expunged */
		if (bytes < bytes_needed || count < count_needed ||
		    bytes < others_bytes || count < others_count)
			ret = 0;
	}
	if (ret > 0) {
		if (!array_is_created(&plan->uids))
			i_array_init(&plan->uids, 8);
		for (i = 0; i < n; i++) {
			m = array_idx_modifiable(&mails, i);
			array_push_back(&plan->uids, &m->uid);
		}
		plan->bytes += bytes;
		plan->count += count;
		if (plan->root_name == NULL)
			plan->root_name = i_strdup(froot->name);
		e_debug(fuser->event, "expunge_oldest: %s: %"PRIu64" message(s), "
			"%"PRIu64" bytes to go when the save commits",
			vname, count, bytes);
		*bytes_freed_r = bytes;
		*count_freed_r = count;
	} else if (ret == 0) {
		e_debug(fuser->event, "expunge_oldest: %s cannot free "
			"%"PRIu64" bytes and %"PRIu64" messages",
			vname, bytes_needed, count_needed);
	}
	return ret;
}

void fq_expunge_plan_run(struct fq_user *fuser, struct mailbox_list *list,
			 const char *vname, struct fq_expunge_plan *plan)
{
	struct mailbox *box;
	struct mailbox_transaction_context *t;
	struct mail *mail;
	const uint32_t *uid;
	uint64_t bytes = 0, count = 0;
	uoff_t size;

	if (plan->count == 0) {
		fq_expunge_plan_free(plan);
		return;
	}
	box = mailbox_alloc(list, vname, 0);
	if (mailbox_open(box) < 0 || mailbox_sync(box, 0) < 0) {
		e_error(fuser->event, "expunge_oldest: cannot open %s: %s",
			vname, mailbox_get_last_internal_error(box, NULL));
		mailbox_free(&box);
		fq_expunge_plan_free(plan);
		return;
	}
	t = mailbox_transaction_begin(box, 0, "folder_quota expunge_oldest");
	mail = mail_alloc(t, MAIL_FETCH_VIRTUAL_SIZE, NULL);
	array_foreach(&plan->uids, uid) {
		if (!mail_set_uid(mail, *uid)) {
			/* expunged meanwhile */
			continue;
		}
		if (mail_get_virtual_size(mail, &size) == 0)
			bytes += size;
		mail_expunge(mail);
		count++;
	}
	mail_free(&mail);
	if (mailbox_transaction_commit(&t) < 0 ||
	    mailbox_sync(box, 0) < 0) {
		e_error(fuser->event, "expunge_oldest in %s failed: %s",
			vname, mailbox_get_last_internal_error(box, NULL));
	} else {
		e_info(fuser->event, "%s is full (%s, when_full = "
		       "expunge_oldest): expunged its %"PRIu64" oldest "
		       "message(s), %"PRIu64" bytes, to make room",
		       vname, plan->root_name, count, bytes);
	}
	mailbox_free(&box);
	fq_expunge_plan_free(plan);
}

void fq_expunge_plan_free(struct fq_expunge_plan *plan)
{
	if (array_is_created(&plan->uids))
		array_free(&plan->uids);
	i_free(plan->root_name);
	plan->bytes = plan->count = 0;
}

/* How much root is over when the transaction adds size bytes and one
   message, once the messages of plan (NULL: none) are gone; FALSE when it
   fits. */
static bool
fq_root_over(struct fq_root *froot, struct quota_transaction_context *ctx,
	     const struct fq_expunge_plan *plan,
	     uoff_t size, uint64_t *bytes_needed_r, uint64_t *count_needed_r,
	     uint64_t *bytes_r, uint64_t *count_r)
{
	uint64_t bytes, count;
	const char *error;

	*bytes_needed_r = *count_needed_r = 0;
	if (fq_root_get_usage(froot, &bytes, &count, &error) < 0) {
		e_error(froot->fuser->event, "%s", error);
		return FALSE;
	}
	if (plan != NULL) {
		/* chosen for this transaction's earlier saves: in the index
		   until it commits */
		bytes = bytes > plan->bytes ? bytes - plan->bytes : 0;
		count = count > plan->count ? count - plan->count : 0;
	}
	if (ctx->bytes_used > 0)
		bytes += ctx->bytes_used;
	if (ctx->count_used > 0)
		count += ctx->count_used;
	*bytes_r = bytes;
	*count_r = count;
	if (froot->storage_limit > 0 && bytes + size > froot->storage_limit)
		*bytes_needed_r = bytes + size - froot->storage_limit;
	if (froot->message_limit > 0 && count + 1 > froot->message_limit)
		*count_needed_r = count + 1 - froot->message_limit;
	return *bytes_needed_r > 0 || *count_needed_r > 0;
}

#if FQ_DOVECOT24
/* After expunging from the target box: every root that sees it got the
   space back. */
static void fq_ctx_expunged(struct quota_transaction_context *ctx,
			    uint64_t bytes, uint64_t count)
{
	struct quota_root *const *roots;
	unsigned int i, root_count;

	roots = array_get(&ctx->quota->all_roots, &root_count);
	for (i = 0; i < root_count; i++) {
		if (quota_root_is_visible(roots[i], ctx->box))
			quota_transaction_root_expunged(&ctx->roots[i],
							count, bytes);
	}
	quota_transaction_update_expunged(ctx);
}

/* What the roots other than ours with expunge_oldest need freed for the
   save to fit. */
static void fq_others_need(const struct quota_overrun *overruns,
			   uint64_t *bytes_r, uint64_t *count_r)
{
	const struct quota_overrun *o;

	*bytes_r = *count_r = 0;
	if (overruns == NULL)
		return;
	for (o = overruns; o->root != NULL; o++) {
		if (strcmp(o->root->backend.name, FOLDER_QUOTA_BACKEND_NAME) == 0 &&
		    ((struct fq_root *)o->root)->expunge_oldest)
			continue;
		*bytes_r = I_MAX(*bytes_r, o->resource.bytes);
		*count_r = I_MAX(*count_r, o->resource.count);
	}
}
#else
static void fq_ctx_expunged(struct quota_transaction_context *ctx,
			    uint64_t bytes, uint64_t count)
{
	/* as the trash plugin does: the ceilings rise by what was freed */
	if (ctx->bytes_over > 0) {
		uint64_t d = I_MIN(ctx->bytes_over, bytes);
		bytes -= d;
		ctx->bytes_over -= d;
	}
	if (ctx->count_over > 0) {
		uint64_t d = I_MIN(ctx->count_over, count);
		count -= d;
		ctx->count_over -= d;
	}
	if (ctx->bytes_ceil > ((uint64_t)-1 - bytes))
		ctx->bytes_ceil = (uint64_t)-1;
	else
		ctx->bytes_ceil += bytes;
	/* the ceiling without grace too: each save of the transaction
	   starts again from it (quota_alloc()), and the room stays made */
	if (ctx->bytes_ceil2 > ((uint64_t)-1 - bytes))
		ctx->bytes_ceil2 = (uint64_t)-1;
	else
		ctx->bytes_ceil2 += bytes;
	if (ctx->count_ceil > ((uint64_t)-1 - count))
		ctx->count_ceil = (uint64_t)-1;
	else
		ctx->count_ceil += count;
}

/* What the tightest of all roots needs freed for the save to fit (the
   freed mail counts in every root that sees the target folder). */
static void fq_others_need(struct quota_transaction_context *ctx, uoff_t size,
			   uint64_t *bytes_r, uint64_t *count_r)
{
	uint64_t used_bytes = ctx->bytes_used > 0 ? ctx->bytes_used : 0;
	uint64_t used_count = ctx->count_used > 0 ? ctx->count_used : 0;

	*bytes_r = *count_r = 0;
	if (ctx->bytes_ceil != (uint64_t)-1 &&
	    used_bytes + size + ctx->bytes_over > ctx->bytes_ceil)
		*bytes_r = used_bytes + size + ctx->bytes_over - ctx->bytes_ceil;
	if (ctx->count_ceil != (uint64_t)-1 &&
	    used_count + 1 + ctx->count_over > ctx->count_ceil)
		*count_r = used_count + 1 + ctx->count_over - ctx->count_ceil;
}
#endif

/* The text of the refusal the client sees: the quota plugin takes it from
   the quota settings when it sets the storage error. */
static const char **fq_refusal_text_ptr(struct quota_transaction_context *ctx)
{
#if FQ_DOVECOT24
	/* the transaction's own copy of the quota settings */
	struct quota_settings *set = (struct quota_settings *)ctx->set;

	return set == NULL ? NULL : &set->quota_exceeded_message;
#else
	return &ctx->quota->set->quota_exceeded_msg;
#endif
}

static void fq_set_refusal_text(struct fq_user *fuser,
				struct quota_transaction_context *ctx,
				const char *text)
{
	const char **ptr = fq_refusal_text_ptr(ctx);

	if (ptr == NULL)
		return;
	if (*ptr != fuser->refusal_ptr)
		fuser->stock_refusal_text = *ptr;
	str_truncate(fuser->refusal_text, 0);
	str_append(fuser->refusal_text, text);
	fuser->refusal_ptr = str_c(fuser->refusal_text);
	*ptr = fuser->refusal_ptr;
}

static void fq_restore_refusal_text(struct fq_user *fuser,
				    struct quota_transaction_context *ctx)
{
	const char **ptr = fq_refusal_text_ptr(ctx);

	if (ptr != NULL && fuser->refusal_ptr != NULL &&
	    *ptr == fuser->refusal_ptr)
		*ptr = fuser->stock_refusal_text;
}

static enum quota_alloc_result fq_test_alloc(FQ_TEST_ALLOC_ARGS)
{
	struct fq_user *fuser = FQ_USER_CONTEXT_REQUIRE(ctx->quota->user);
	enum quota_alloc_result ret;
	struct fq_root **roots, *over = NULL;
	uint64_t need_b, need_c, max_b = 0, max_c = 0, used_b = 0, used_c = 0;
	uint64_t freed_b, freed_c;
	unsigned int i, n;
	bool all_expunge = TRUE;
	int attempt;
#if FQ_DOVECOT24
	const struct quota_overrun *overruns = NULL;
	const struct quota_overrun **orig_overruns_r = overruns_r;

	overruns_r = &overruns;
#endif

	/* what expunge_oldest chooses goes into the plan of the transaction
	   saving into ctx->box, expunged when it commits; without one (a
	   check that saves nothing) nothing is chosen */
	struct fq_expunge_plan *plan = fq_mailbox_plan(ctx->box);
	unsigned int plan_uids = plan == NULL || !array_is_created(&plan->uids) ?
		0 : array_count(&plan->uids);
	uint64_t plan_bytes = plan == NULL ? 0 : plan->bytes;
	uint64_t plan_count = plan == NULL ? 0 : plan->count;

	fq_restore_refusal_text(fuser, ctx);
	if (fuser->freed_box != NULL && fuser->freed_box == ctx->box) {
		/* a MOVE check made room for this save after the quota plugin
		   took its measures */
		fq_ctx_expunged(ctx, fuser->freed_bytes, fuser->freed_count);
		fq_note_freed(fuser, NULL, 0, 0);
	}
	for (attempt = 0;; attempt++) {
		ret = FQ_TEST_ALLOC_CALL(fuser->next_test_alloc);
#if FQ_DOVECOT24
		if (orig_overruns_r != NULL)
			*orig_overruns_r = overruns;
#endif
		if (ret != QUOTA_ALLOC_RESULT_OVER_QUOTA &&
		    ret != QUOTA_ALLOC_RESULT_OVER_QUOTA_LIMIT)
			return ret;
		if (plan != NULL && plan->count != plan_count) {
			/* refused even so: the save does not happen, so
			   nothing goes for it */
			array_delete(&plan->uids, plan_uids,
				     array_count(&plan->uids) - plan_uids);
			plan->bytes = plan_bytes;
			plan->count = plan_count;
		}

		n = fq_mailbox_roots(ctx->box, &roots);
		over = NULL;
		max_b = max_c = 0;
		all_expunge = TRUE;
		for (i = 0; i < n; i++) {
			uint64_t b, c;

			if (!fq_root_over(roots[i], ctx, plan, size,
					  &need_b, &need_c, &b, &c))
				continue;
			if (over == NULL) {
				over = roots[i];
				used_b = b;
				used_c = c;
			}
			if (!roots[i]->expunge_oldest ||
			    (roots[i]->storage_limit > 0 &&
			     size > roots[i]->storage_limit))
				all_expunge = FALSE;
			max_b = I_MAX(max_b, need_b);
			max_c = I_MAX(max_c, need_c);
		}
		if (over == NULL) {
			/* another root (the user's) refuses: stock text */
			return ret;
		}
		if (attempt > 0 || !all_expunge || plan == NULL ||
		    ret == QUOTA_ALLOC_RESULT_OVER_QUOTA_LIMIT)
			break;
		uint64_t others_b, others_c;
#if FQ_DOVECOT24
		fq_others_need(overruns, &others_b, &others_c);
#else
		fq_others_need(ctx, size, &others_b, &others_c);
#endif
		if (fq_expunge_choose(fuser, ctx->box, plan, over,
				      max_b, max_c, others_b, others_c,
				      &freed_b, &freed_c) <= 0)
			break;
		fq_ctx_expunged(ctx, freed_b, freed_c);
	}

	fq_set_refusal_text(fuser, ctx, fq_over_text(over, used_b, used_c));
	if (fuser->delivery) {
		e_info(fuser->event, "delivery into %s refused by its folder "
		       "limit (%s): the mail goes to INBOX instead",
		       mailbox_get_vname(ctx->box), str_c(fuser->refusal_text));
	}
	return ret;
}

void fq_note_freed(struct fq_user *fuser, struct mailbox *box,
		   uint64_t bytes, uint64_t count)
{
	fuser->freed_box = box;
	fuser->freed_bytes = box == NULL ? 0 : bytes;
	fuser->freed_count = box == NULL ? 0 : count;
}

void fq_expunge_user_init(struct fq_user *fuser)
{
	struct quota *quota = fuser->quota;

	fuser->refusal_text = str_new(fuser->user->pool, 128);
	fuser->next_test_alloc = FQ_QUOTA_TEST_ALLOC(quota);
	FQ_QUOTA_TEST_ALLOC(quota) = fq_test_alloc;
}

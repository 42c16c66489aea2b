/* folder-quota-storage.c: lib-storage hooks of folder_quota.
 *
 * - Which roots govern a mailbox (match_box), matched once per mailbox
 *   and policy generation; INBOX is never governed in LMTP/LDA, so that a
 *   folder limit never refuses a delivery (a refused save into another
 *   folder falls back to INBOX in mail_deliver and in Sieve).
 * - Counting the user's open mailbox transactions, so that roots change
 *   only when none is open (folder-quota-roots.c), and adding the roots of
 *   a folder another process created before the first transaction in it.
 * - CREATE/RENAME/DELETE queue root changes.
 * - MOVE: Dovecot 2.3 does not check quota on a MOVE within one namespace
 *   (quota_move_requires_check), and 2.4 counts each moved message as
 *   one in and one out of every root, also of a root the source is not
 *   in, so a MOVE of many messages passes a folder limit once the folder
 *   had room for one.  The folder roots of the destination that do not
 *   govern the source are checked here, message by message, for both. */

#include "lib.h"
#include "str.h"
#include "ioloop.h"
#include "mail-namespace.h"
#include "mailbox-list-private.h"

#include "folder-quota-plugin.h"

#define FQ_CONTEXT(obj) \
	MODULE_CONTEXT(obj, fq_storage_module)
#define FQ_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, fq_storage_module)

struct fq_mailbox {
	union mailbox_module_context module_ctx;
	struct fq_user *fuser;

	/* the folders of the roots that govern this mailbox, deepest first,
	   valid for generation */
	unsigned int generation;
	unsigned int root_count;
	const char **root_vnames;
	/* the transactions open on this mailbox instance, and the last one
	   begun: the quota plugin's check of a save names only the mailbox,
	   and the plan of a transaction it may add to must be certain */
	unsigned int open_transactions;
	struct mailbox_transaction_context *last_transaction;
	bool matched:1;
	bool inbox:1;
};

struct fq_transaction {
	union mailbox_transaction_module_context module_ctx;
	/* copied or moved in by this transaction, not yet in the index */
	uint64_t added_bytes, added_count;
	/* expunged from the mailbox once this transaction commits */
	struct fq_expunge_plan plan;
};

static MODULE_CONTEXT_DEFINE_INIT(fq_storage_module,
				  &mail_storage_module_register);

static struct fq_user *fq_mailbox_user(struct mailbox *box);

/* ---- usage read in this ioloop run (see folder-quota-backend.c) ---- */

static void fq_usage_cache_expire(struct fq_user *fuser)
{
	if (fuser->usage_tv.tv_sec == ioloop_timeval.tv_sec &&
	    fuser->usage_tv.tv_usec == ioloop_timeval.tv_usec)
		return;
	fuser->usage_tv = ioloop_timeval;
	if (hash_table_is_created(fuser->usage_cache)) {
		hash_table_clear(fuser->usage_cache, TRUE);
		p_clear(fuser->usage_pool);
	}
}

static struct fq_usage *fq_usage_cache_entry(struct fq_user *fuser,
					     const char *vname)
{
	struct fq_usage *usage;
	char *key;

	fq_usage_cache_expire(fuser);
	if (!hash_table_is_created(fuser->usage_cache)) {
		fuser->usage_pool = pool_alloconly_create("folder_quota usage", 1024);
		hash_table_create(&fuser->usage_cache, default_pool, 0,
				  str_hash, strcmp);
	}
	usage = hash_table_lookup(fuser->usage_cache, vname);
	if (usage == NULL) {
		key = p_strdup(fuser->usage_pool, vname);
		usage = p_new(fuser->usage_pool, struct fq_usage, 1);
		hash_table_insert(fuser->usage_cache, key, usage);
	}
	return usage;
}

bool fq_usage_cache_get(struct fq_user *fuser, const char *vname,
			uint64_t *bytes_r, uint64_t *count_r)
{
	struct fq_usage *usage;

	fq_usage_cache_expire(fuser);
	if (!hash_table_is_created(fuser->usage_cache))
		return FALSE;
	usage = hash_table_lookup(fuser->usage_cache, vname);
	if (usage == NULL || !usage->have_vsize || !usage->have_messages)
		return FALSE;
	*bytes_r = usage->vsize;
	*count_r = usage->messages;
	return TRUE;
}

void fq_usage_cache_forget(struct fq_user *fuser, const char *vname)
{
	struct fq_usage *usage;

	if (!hash_table_is_created(fuser->usage_cache))
		return;
	usage = hash_table_lookup(fuser->usage_cache, vname);
	if (usage != NULL)
		usage->have_vsize = usage->have_messages = FALSE;
}

void fq_usage_cache_deinit(struct fq_user *fuser)
{
	if (hash_table_is_created(fuser->usage_cache)) {
		hash_table_destroy(&fuser->usage_cache);
		pool_unref(&fuser->usage_pool);
	}
}

static int fq_get_metadata(struct mailbox *box,
			   enum mailbox_metadata_items items,
			   struct mailbox_metadata *metadata_r)
{
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	struct fq_usage *usage;

	if (fbox->module_ctx.super.get_metadata(box, items, metadata_r) < 0)
		return -1;
	if ((items & MAILBOX_METADATA_VIRTUAL_SIZE) != 0 &&
	    fq_mailbox_user(box) != NULL) {
		usage = fq_usage_cache_entry(fbox->fuser, box->vname);
		usage->vsize = metadata_r->virtual_size;
		usage->have_vsize = TRUE;
	}
	return 0;
}

static int fq_get_status(struct mailbox *box, enum mailbox_status_items items,
			 struct mailbox_status *status_r)
{
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	struct fq_usage *usage;

	if (fbox->module_ctx.super.get_status(box, items, status_r) < 0)
		return -1;
	if ((items & STATUS_MESSAGES) != 0 && fq_mailbox_user(box) != NULL) {
		usage = fq_usage_cache_entry(fbox->fuser, box->vname);
		usage->messages = status_r->messages;
		usage->have_messages = TRUE;
	}
	return 0;
}

static int fq_sync_deinit(struct mailbox_sync_context *ctx,
			  struct mailbox_sync_status *status_r)
{
	struct mailbox *box = ctx->box;
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	int ret;

	ret = fbox->module_ctx.super.sync_deinit(ctx, status_r);
	/* expunges and new mail show at syncs */
	fq_usage_cache_forget(fbox->fuser, box->vname);
	return ret;
}

static struct fq_user *fq_mailbox_user(struct mailbox *box)
{
	struct fq_mailbox *fbox = FQ_CONTEXT(box);

	if (fbox == NULL || fbox->fuser->ns == NULL ||
	    box->list->ns != fbox->fuser->ns)
		return NULL;
	return fbox->fuser;
}

static void fq_mailbox_match(struct mailbox *box, struct fq_mailbox *fbox)
{
	struct fq_user *fuser = fbox->fuser;
	const struct fq_root_spec *specs;
	unsigned int i, count;

	if (fbox->matched && fbox->generation == fuser->generation)
		return;
	fbox->matched = TRUE;
	fbox->generation = fuser->generation;
	fbox->root_count = 0;
	fbox->inbox = strcmp(box->vname, "INBOX") == 0;
	T_BEGIN {
		count = fq_roots_match(fuser, box->vname, &specs);
		if (count > 0) {
			fbox->root_vnames = p_new(box->pool, const char *, count);
			for (i = 0; i < count; i++) {
				fbox->root_vnames[i] =
					p_strdup(box->pool, specs[i].vname);
			}
		}
		fbox->root_count = count;
	} T_END;
}

bool fq_mailbox_is_governed_by(struct mailbox *box, struct fq_root *froot)
{
	struct fq_mailbox *fbox = FQ_CONTEXT(box);
	unsigned int i;

	if (fbox == NULL || fbox->fuser != froot->fuser ||
	    fq_mailbox_user(box) == NULL)
		return FALSE;
	fq_mailbox_match(box, fbox);
	if (fbox->inbox && fbox->fuser->delivery) {
		/* a folder limit never refuses delivery to INBOX */
		return FALSE;
	}
	for (i = 0; i < fbox->root_count; i++) {
		if (strcmp(fbox->root_vnames[i], froot->vname) == 0)
			return TRUE;
	}
	return FALSE;
}

unsigned int fq_mailbox_roots(struct mailbox *box, struct fq_root ***roots_r)
{
	struct fq_user *fuser = fq_mailbox_user(box);
	struct fq_root *froot, **roots;
	unsigned int count = 0;

	*roots_r = NULL;
	if (fuser == NULL)
		return 0;
	roots = t_new(struct fq_root *, array_count(&fuser->roots) + 1);
	array_foreach_elem(&fuser->roots, froot) {
		if (fq_mailbox_is_governed_by(box, froot))
			roots[count++] = froot;
	}
	*roots_r = roots;
	return count;
}

/* Adds the missing roots of a folder that exists but was not there when
   the session started (another process made it). */
static void fq_mailbox_ensure_roots(struct mailbox *box, struct fq_mailbox *fbox)
{
	struct fq_user *fuser = fbox->fuser;
	unsigned int i;

	fq_mailbox_match(box, fbox);
	for (i = 0; i < fbox->root_count; i++) {
		if (fq_roots_find(fuser, fbox->root_vnames[i]) == NULL) {
			fq_roots_queue_add(fuser, box->vname);
			fq_roots_safe_point(fuser, FALSE);
			return;
		}
	}
}

static struct mailbox_transaction_context *
fq_transaction_begin(struct mailbox *box, enum mailbox_transaction_flags flags,
		     const char *reason)
{
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	struct fq_user *fuser = fbox->fuser;
	struct mailbox_transaction_context *t;
	struct fq_transaction *ft;

	/* The quota plugin (loaded before us) begins its own transaction
	   for this one after we return: any root it should know must exist
	   now. */
	if (fuser->open_transactions == 0 && fuser->ready &&
	    fq_mailbox_user(box) != NULL)
		fq_mailbox_ensure_roots(box, fbox);
	if (fuser->ready && fq_mailbox_user(box) != NULL) {
		/* a mailbox no rule governs has no root settings to check */
		fq_mailbox_match(box, fbox);
		if (fbox->root_count > 0)
			fq_roots_box_settings(fuser, box);
	}
	fuser->open_transactions++;

	fuser->quota_tx_calls++;
	t = fbox->module_ctx.super.transaction_begin(box, flags, reason);
	fuser->quota_tx_calls--;
	ft = i_new(struct fq_transaction, 1);
	MODULE_CONTEXT_SET(t, fq_storage_module, ft);
	fbox->open_transactions++;
	fbox->last_transaction = t;
	return t;
}

struct fq_expunge_plan *fq_mailbox_plan(struct mailbox *box)
{
	struct fq_mailbox *fbox = FQ_CONTEXT(box);
	struct fq_transaction *ft;

	if (fbox == NULL || fbox->open_transactions != 1 ||
	    fbox->last_transaction == NULL)
		return NULL;
	ft = FQ_CONTEXT(fbox->last_transaction);
	return ft == NULL ? NULL : &ft->plan;
}

static int
fq_transaction_commit(struct mailbox_transaction_context *t,
		      struct mail_transaction_commit_changes *changes_r)
{
	struct mailbox *box = t->box;
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	struct fq_transaction *ft = FQ_CONTEXT_REQUIRE(t);
	int ret;

	i_assert(fbox->open_transactions > 0);
	fbox->open_transactions--;
	if (fbox->last_transaction == t)
		fbox->last_transaction = NULL;
	fbox->fuser->quota_tx_calls++;
	ret = fbox->module_ctx.super.transaction_commit(t, changes_r);
	fbox->fuser->quota_tx_calls--;
	/* the saves are in: now the room they were promised is made */
	if (ret == 0)
		fq_expunge_plan_run(fbox->fuser, box->list, box->vname, &ft->plan);
	else
		fq_expunge_plan_free(&ft->plan);
	fq_usage_cache_forget(fbox->fuser, box->vname);
	if (fq_mailbox_user(box) != NULL)
		fq_roots_forget_usage(box);
	i_free(ft);
	fq_note_freed(fbox->fuser, NULL, 0, 0);
	i_assert(fbox->fuser->open_transactions > 0);
	fbox->fuser->open_transactions--;
	return ret;
}

static void fq_transaction_rollback(struct mailbox_transaction_context *t)
{
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(t->box);
	struct fq_transaction *ft = FQ_CONTEXT_REQUIRE(t);

	i_assert(fbox->open_transactions > 0);
	fbox->open_transactions--;
	if (fbox->last_transaction == t)
		fbox->last_transaction = NULL;
	fbox->module_ctx.super.transaction_rollback(t);
	fq_expunge_plan_free(&ft->plan);
	i_free(ft);
	fq_note_freed(fbox->fuser, NULL, 0, 0);
	i_assert(fbox->fuser->open_transactions > 0);
	fbox->fuser->open_transactions--;
}

const char *fq_over_text(struct fq_root *froot, uint64_t bytes, uint64_t count)
{
	const char *folder = froot->vname;

	if (froot->message_limit > 0 && count >= froot->message_limit) {
		return t_strdup_printf("Quota exceeded in folder %s "
			"(%s: %"PRIu64" of %"PRIu64" messages)", folder,
			froot->name, count, froot->message_limit);
	}
	return t_strdup_printf("Quota exceeded in folder %s "
		"(%s: %"PRIu64" of %"PRIu64" KiB)", folder, froot->name,
		(bytes + 1023) / 1024, (froot->storage_limit + 1023) / 1024);
}

/* Whether the copied or moved mail fits each folder root of the
   destination (for a move: that does not also govern the source),
   counting what this transaction already added and what it will expunge.
   As the quota plugin's check does (fq_test_alloc()), a root with
   expunge_oldest makes room only when every root that is over has it,
   and then by one choice of the destination's oldest messages that
   satisfies them all; they go when the transaction commits (what they
   free is handed to the quota plugin's check of the same save, see
   fq_test_alloc()).  Done before the copy, because the quota plugin
   checks a copy only after the storage made it: a caller that goes on
   after a failed copy and commits (doveadm import) would otherwise keep
   that mail over the limit, and trip the commit's count of saved mail.
   Returns 0 when it may go on, -1 with the storage error set. */
static int fq_copy_check(struct mail_save_context *ctx, struct mail *mail,
			 bool moving)
{
	struct mailbox *box = ctx->transaction->box;
	struct fq_transaction *ft = FQ_CONTEXT_REQUIRE(ctx->transaction);
	struct fq_root **roots, *over = NULL, *refuser = NULL;
	const char *error;
	uint64_t bytes, count, needed_bytes, needed_count, freed_b, freed_c;
	uint64_t max_b = 0, max_c = 0, over_b = 0, over_c = 0;
	uint64_t refuser_b = 0, refuser_c = 0;
	uoff_t size;
	unsigned int i, n;

	n = fq_mailbox_roots(box, &roots);
	if (n == 0)
		return 0;
	if (mail_get_virtual_size(mail, &size) < 0) {
		/* gone already: the copy fails by itself */
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (moving && fq_mailbox_is_governed_by(mail->box, roots[i]))
			continue;
		if (fq_root_get_usage(roots[i], &bytes, &count, &error) < 0) {
			e_error(roots[i]->fuser->event,
				"%s - moving mail anyway", error);
			continue;
		}
		bytes = bytes > ft->plan.bytes ? bytes - ft->plan.bytes : 0;
		count = count > ft->plan.count ? count - ft->plan.count : 0;
		bytes += ft->added_bytes;
		count += ft->added_count;
		needed_bytes = roots[i]->storage_limit == 0 ||
			bytes + size <= roots[i]->storage_limit ? 0 :
			bytes + size - roots[i]->storage_limit;
		needed_count = roots[i]->message_limit == 0 ||
			count + 1 <= roots[i]->message_limit ? 0 :
			count + 1 - roots[i]->message_limit;
		if (needed_bytes == 0 && needed_count == 0)
			continue;
		if (over == NULL) {
			over = roots[i];
			over_b = bytes;
			over_c = count;
		}
		if ((!roots[i]->expunge_oldest ||
		     (roots[i]->storage_limit > 0 &&
		      size > roots[i]->storage_limit)) && refuser == NULL) {
			refuser = roots[i];
			refuser_b = bytes;
			refuser_c = count;
		}
		max_b = I_MAX(max_b, needed_bytes);
		max_c = I_MAX(max_c, needed_count);
	}
	if (over == NULL)
		return 0;
	if (refuser == NULL) {
		if (fq_expunge_choose(over->fuser, box, &ft->plan, over,
				      max_b, max_c, 0, 0,
				      &freed_b, &freed_c) > 0) {
			fq_note_freed(over->fuser, box, freed_b, freed_c);
			return 0;
		}
		refuser = over;
		refuser_b = over_b;
		refuser_c = over_c;
	}
	mail_storage_set_error(box->storage, MAIL_ERROR_NOQUOTA,
			       fq_over_text(refuser, refuser_b, refuser_c));
	return -1;
}

static int fq_copy(struct mail_save_context *ctx, struct mail *mail)
{
	struct mailbox *box = ctx->transaction->box;
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	struct fq_transaction *ft = FQ_CONTEXT_REQUIRE(ctx->transaction);
	uoff_t size;
	bool moving = ctx->moving;
	int ret;

	/* Deliveries keep the quota plugin's own check, which falls back to
	   INBOX and never refuses INBOX (fq_test_alloc()).  dsync copies
	   what the other side has: the quota plugin ignores quota for it,
	   and so do folder limits (a replica that refused or expunged would
	   differ from its source, and a two-way sync carries expunges
	   back). */
	if (fq_mailbox_user(box) != NULL && !box->storage->user->dsyncing &&
	    (moving || !fbox->fuser->delivery)) {
		fq_note_freed(fbox->fuser, NULL, 0, 0);
		T_BEGIN {
			ret = fq_copy_check(ctx, mail, moving);
		} T_END;
		if (ret < 0) {
			mailbox_save_cancel(&ctx);
			return -1;
		}
	}
	if (fbox->module_ctx.super.copy(ctx, mail) < 0)
		return -1;
	if (mail_get_virtual_size(mail, &size) == 0) {
		ft->added_bytes += size;
		ft->added_count++;
	}
	return 0;
}

static int
fq_create_box(struct mailbox *box, const struct mailbox_update *update,
	      bool directory)
{
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	struct fq_user *fuser;

	if (fbox->module_ctx.super.create_box(box, update, directory) < 0)
		return -1;
	if ((fuser = fq_mailbox_user(box)) != NULL) {
		fq_roots_queue_add(fuser, box->vname);
		fq_roots_safe_point(fuser, FALSE);
	}
	return 0;
}

static int fq_rename_box(struct mailbox *src, struct mailbox *dest)
{
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(src);
	struct fq_user *fuser;

	if (fbox->module_ctx.super.rename_box(src, dest) < 0)
		return -1;
	/* the old name's roots go, the new name's come: usage follows the
	   folder, since it is read from the folder itself */
	if ((fuser = fq_mailbox_user(src)) != NULL)
		fq_roots_queue_remove(fuser, src->vname);
	if ((fuser = fq_mailbox_user(dest)) != NULL)
		fq_roots_queue_add(fuser, dest->vname);
	if (fuser != NULL || (fuser = fq_mailbox_user(src)) != NULL)
		fq_roots_safe_point(fuser, FALSE);
	return 0;
}

static int fq_delete_box(struct mailbox *box)
{
	struct fq_mailbox *fbox = FQ_CONTEXT_REQUIRE(box);
	struct fq_user *fuser;

	if (fbox->module_ctx.super.delete_box(box) < 0)
		return -1;
	if ((fuser = fq_mailbox_user(box)) != NULL) {
		fq_roots_queue_remove(fuser, box->vname);
		fq_roots_safe_point(fuser, FALSE);
	}
	return 0;
}

void fq_mailbox_allocated(struct mailbox *box)
{
	struct mailbox_vfuncs *v = box->vlast;
	struct fq_user *fuser = FQ_USER_CONTEXT(box->storage->user);
	struct fq_mailbox *fbox;

	if (fuser == NULL)
		return;
	/* every mailbox of the user: transactions are counted in all */
	fbox = p_new(box->pool, struct fq_mailbox, 1);
	fbox->fuser = fuser;
	fbox->module_ctx.super = *v;
	box->vlast = &fbox->module_ctx.super;

	v->get_metadata = fq_get_metadata;
	v->get_status = fq_get_status;
	v->sync_deinit = fq_sync_deinit;
	v->transaction_begin = fq_transaction_begin;
	v->transaction_commit = fq_transaction_commit;
	v->transaction_rollback = fq_transaction_rollback;
	v->copy = fq_copy;
	v->create_box = fq_create_box;
	v->rename_box = fq_rename_box;
	v->delete_box = fq_delete_box;
	MODULE_CONTEXT_SET(box, fq_storage_module, fbox);
}

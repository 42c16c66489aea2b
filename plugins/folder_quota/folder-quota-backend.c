/* folder-quota-backend.c: the quota backend "folder_quota".
 *
 * A root of this backend governs one folder (scope folder) or a folder
 * and everything below it (scope subtree).  Its usage is what the index
 * already knows: the mailbox's virtual size (the vsize header the count
 * backend also uses, kept up to date by lib-storage) and its message
 * count; nothing is scanned per save.  Like the count backend, usage is
 * cached for one ioloop run and dropped when a transaction in the root
 * commits (update()).  Limits come from the policy, set by
 * fq_root_set_limits(). */

#include "lib.h"
#include "ioloop.h"
#include "mail-namespace.h"
#include "mailbox-list-private.h"
#include "mailbox-list-iter.h"

#include "folder-quota-plugin.h"

int fq_mailbox_get_usage(struct fq_user *fuser, const char *vname,
			 uint64_t *bytes_r, uint64_t *count_r,
			 const char **error_r)
{
	struct mail_namespace *ns = fuser->ns;
	struct mailbox *box;
	struct mailbox_metadata metadata;
	struct mailbox_status status;
	enum mail_error error;
	const char *errstr;
	int ret = 0;

	*bytes_r = *count_r = 0;
	/* what the user's own root just read in this ioloop run */
	if (fq_usage_cache_get(fuser, vname, bytes_r, count_r))
		return 0;
	box = mailbox_alloc(ns->list, vname, MAILBOX_FLAG_READONLY);
	if ((box->storage->class_flags & MAIL_STORAGE_CLASS_FLAG_NOQUOTA) != 0) {
		/* no quota for this storage */
	} else if (mailbox_get_metadata(box, MAILBOX_METADATA_VIRTUAL_SIZE,
					&metadata) < 0 ||
		   mailbox_get_status(box, STATUS_MESSAGES, &status) < 0) {
		errstr = mailbox_get_last_internal_error(box, &error);
		if (error == MAIL_ERROR_TEMP) {
			*error_r = t_strdup_printf(
				"Couldn't get size of mailbox %s: %s",
				vname, errstr);
			ret = -1;
		}
		/* else: gone, or not accessible: counts as empty */
	} else {
		*bytes_r = metadata.virtual_size;
		*count_r = status.messages;
	}
	mailbox_free(&box);
	return ret;
}

static bool fq_has_list_wildcards(const char *name)
{
	return strpbrk(name, "*%") != NULL;
}

static int fq_subtree_usage(struct fq_root *froot, uint64_t *bytes_r,
			    uint64_t *count_r, const char **error_r)
{
	struct fq_user *fuser = froot->fuser;
	struct mailbox_list_iterate_context *iter;
	const struct mailbox_info *info;
	const char *patterns[3];
	uint64_t bytes, count;
	size_t len = strlen(froot->vname);
	int ret = 0;

	*bytes_r = *count_r = 0;
	if (fuser->sep == '\0' || fq_has_list_wildcards(froot->vname)) {
		/* a name with wildcards in it is filtered here instead */
		patterns[0] = "*";
		patterns[1] = NULL;
	} else {
		patterns[0] = froot->vname;
		patterns[1] = t_strdup_printf("%s%c*", froot->vname, fuser->sep);
		patterns[2] = NULL;
	}
	iter = mailbox_list_iter_init_multiple(fuser->ns->list, patterns,
					       MAILBOX_LIST_ITER_RETURN_NO_FLAGS |
					       MAILBOX_LIST_ITER_SKIP_ALIASES |
					       MAILBOX_LIST_ITER_NO_AUTO_BOXES);
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		if ((info->flags & (MAILBOX_NONEXISTENT | MAILBOX_NOSELECT)) != 0)
			continue;
		if (strncmp(info->vname, froot->vname, len) != 0 ||
		    (info->vname[len] != '\0' && info->vname[len] != fuser->sep))
			continue;
		if (fq_mailbox_get_usage(fuser, info->vname, &bytes,
					 &count, error_r) < 0) {
			ret = -1;
			break;
		}
		*bytes_r += bytes;
		*count_r += count;
	}
	if (mailbox_list_iter_deinit(&iter) < 0 && ret == 0) {
		*error_r = t_strdup_printf("Listing %s failed: %s", froot->vname,
			mailbox_list_get_last_internal_error(fuser->ns->list,
							     NULL));
		ret = -1;
	}
	return ret;
}

int fq_root_get_usage(struct fq_root *froot, uint64_t *bytes_r,
		      uint64_t *count_r, const char **error_r)
{
	int ret;

	if (froot->cache_tv.tv_sec == ioloop_timeval.tv_sec &&
	    froot->cache_tv.tv_usec == ioloop_timeval.tv_usec &&
	    ioloop_timeval.tv_sec != 0) {
		*bytes_r = froot->cached_bytes;
		*count_r = froot->cached_count;
		return 0;
	}
	if (froot->scope == MP_FOLDER_SCOPE_SUBTREE)
		ret = fq_subtree_usage(froot, bytes_r, count_r, error_r);
	else {
		ret = fq_mailbox_get_usage(froot->fuser, froot->vname,
					   bytes_r, count_r, error_r);
	}
	if (ret == 0) {
		froot->cache_tv = ioloop_timeval;
		froot->cached_bytes = *bytes_r;
		froot->cached_count = *count_r;
	}
	return ret;
}

void fq_root_set_limits(struct fq_root *froot, const struct fq_root_spec *spec)
{
	struct quota_root *root = &froot->root;

	froot->scope = spec->scope;
	froot->expunge_oldest = spec->expunge_oldest;
	froot->storage_limit = spec->storage;
	froot->message_limit = spec->messages;
	root->bytes_limit = spec->storage > INT64_MAX ? 0 : (int64_t)spec->storage;
	root->count_limit = spec->messages > INT64_MAX ? 0 : (int64_t)spec->messages;
#if !FQ_DOVECOT24
	struct quota_root_settings *root_set = root->set;

	root_set->default_rule.bytes_limit = root->bytes_limit;
	root_set->default_rule.count_limit = root->count_limit;
	/* percentages of quota_warning rules follow the limits */
	quota_root_recalculate_relative_rules(root_set, root->bytes_limit,
					      root->count_limit);
#endif
}

static struct quota_root *fq_backend_alloc(void)
{
	struct fq_root *froot = i_new(struct fq_root, 1);

	return &froot->root;
}

#if FQ_DOVECOT24
static int fq_backend_init(struct quota_root *root, const char **error_r)
#else
static int fq_backend_init(struct quota_root *root, const char *args ATTR_UNUSED,
			   const char **error_r)
#endif
{
	struct fq_root *froot = (struct fq_root *)root;
	struct fq_user *fuser = FQ_USER_CONTEXT(root->quota->user);
	const struct fq_root_spec *spec;

	if (fuser == NULL || fuser->creating == NULL) {
		*error_r = "folder_quota roots are made by the folder_quota "
			"plugin from the policy file, not in dovecot.conf";
		return -1;
	}
	spec = fuser->creating;
	froot->fuser = fuser;
	froot->vname = p_strdup(root->pool, spec->vname);
	froot->name = p_strdup(root->pool, fq_root_name(spec->vname));
	/* Usage is read from the index, never counted by update(). */
	root->auto_updating = TRUE;
#if FQ_DOVECOT24
	fq_root_set_limits(froot, spec);
	/* What the quota plugin reads only from the settings struct the root
	   got when it was made, which is the root's own (the filter may be
	   shared by all the user's folder roots): its name; no grace (LMTP
	   would let a delivery pass the folder limit by it); kept although
	   the settings have no limit (ours are not in the settings); enforced
	   and shown, whatever the admin set for the user's own root. */
	struct quota_root_settings *set = (struct quota_root_settings *)root->set;
	set->quota_name = froot->name;
	set->quota_storage_grace = 0;
	set->quota_ignore_unlimited = FALSE;
	set->quota_enforce = TRUE;
	set->quota_hidden = FALSE;
	/* quota_warning's execute args can name the folder:
	   %{event:quota_folder} */
	event_add_str(root->backend.event, "quota_folder",
		      froot->name + strlen(FOLDER_QUOTA_ROOT_PREFIX));
	fuser->created = froot;
#endif
	return 0;
}

static void fq_backend_deinit(struct quota_root *root)
{
	i_free(root);
}

static const char *const *
fq_backend_get_resources(struct quota_root *root)
{
	/* Only the limited ones: a resource without a limit is not reported
	   anyway, and each one asked for costs the quota plugin a settings
	   lookup on 2.4. */
	static const char *both[] = {
		QUOTA_NAME_STORAGE_KILOBYTES, QUOTA_NAME_MESSAGES, NULL
	};
	struct fq_root *froot = (struct fq_root *)root;

	if (froot->storage_limit == 0)
		return both + 1;
	if (froot->message_limit == 0) {
		static const char *storage[] = {
			QUOTA_NAME_STORAGE_KILOBYTES, NULL
		};
		return storage;
	}
	return both;
}

static enum quota_get_result
fq_backend_get_resource(struct quota_root *root, const char *name,
			uint64_t *value_r, const char **error_r)
{
	struct fq_root *froot = (struct fq_root *)root;
	uint64_t bytes, count;

	if (fq_root_get_usage(froot, &bytes, &count, error_r) < 0)
		return QUOTA_GET_RESULT_INTERNAL_ERROR;
	if (strcmp(name, QUOTA_NAME_STORAGE_BYTES) == 0)
		*value_r = bytes;
	else if (strcmp(name, QUOTA_NAME_MESSAGES) == 0)
		*value_r = count;
	else {
		*error_r = QUOTA_UNKNOWN_RESOURCE_ERROR_STRING;
		return QUOTA_GET_RESULT_UNKNOWN_RESOURCE;
	}
	return QUOTA_GET_RESULT_LIMITED;
}

static int fq_backend_update(struct quota_root *root,
			     struct quota_transaction_context *ctx ATTR_UNUSED,
			     const char **error_r ATTR_UNUSED)
{
	struct fq_root *froot = (struct fq_root *)root;

	/* something in the root changed: the next check re-reads */
	froot->cache_tv.tv_sec = 0;
	return 0;
}

void fq_roots_forget_usage(struct mailbox *box)
{
	struct fq_root **roots;
	unsigned int i, count;

	T_BEGIN {
		count = fq_mailbox_roots(box, &roots);
		for (i = 0; i < count; i++)
			roots[i]->cache_tv.tv_sec = 0;
	} T_END;
}

#if FQ_DOVECOT24
/* Whether the root has quota_warning blocks (PER_ROOT filters). */
static bool fq_root_has_warnings(struct quota_root *root)
{
	return array_is_created(&root->set->quota_warnings) &&
		!array_is_empty(&root->set->quota_warnings);
}
#endif

static bool fq_backend_match_box(struct quota_root *root, struct mailbox *box)
{
	struct fq_root *froot = (struct fq_root *)root;

#if FQ_DOVECOT24
	/* Dovecot 2.4 looks the settings of every root a mailbox is in up
	   again when a transaction begins and when it commits, each lookup
	   costing more than the rest of the check.  For a folder root that
	   has no quota_warning they are not needed: the begin looks only at
	   quota_ignore (always "no" here) and at warnings below a limit, the
	   commit at quota_ignore, then calls update() (which only forgets the
	   cached usage: fq_transaction_commit() does that for the roots of
	   the mailbox) and runs the root's warnings (none).  So while the
	   quota plugin begins or commits a transaction the root is not
	   shown to it; every check of a save (quota_test_alloc(), the
	   limits) and every report still sees it. */
	if (froot->fuser->quota_tx_calls > 0 && !fq_root_has_warnings(root))
		return FALSE;
#endif
	return fq_mailbox_is_governed_by(box, froot);
}

struct quota_backend fq_backend = {
	.name = FOLDER_QUOTA_BACKEND_NAME,
	.v = {
		.alloc = fq_backend_alloc,
		.init = fq_backend_init,
		.deinit = fq_backend_deinit,
		.get_resources = fq_backend_get_resources,
		.get_resource = fq_backend_get_resource,
		.update = fq_backend_update,
		.match_box = fq_backend_match_box,
	},
};

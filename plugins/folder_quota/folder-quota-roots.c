/* folder-quota-roots.c: the folder roots of a user, and when they change.
 *
 * At the start of a session every existing folder is matched against the
 * rules once (one LIST of the governed namespace) and each governed
 * folder gets its root.  Later changes (a folder created, renamed or
 * deleted, a new policy) are queued and applied at safe points: the quota
 * plugin sizes per-transaction state by the roots that exist when a
 * transaction begins and loops over them in many places, so roots are
 * only added or removed while no mailbox transaction of the user is open
 * and no quota code is on the stack.
 *
 * How a root is added differs: on 2.3 the root is built here exactly as
 * quota_root_init() builds one; on 2.4 the quota plugin builds it through
 * quota_add_user_namespace() from the settings filter "quota/folder_quota",
 * which settings overrides on the user's settings instance define (see
 * fq_override_24()). */

#include "lib.h"
#include "str.h"
#include "mail-namespace.h"
#include "mailbox-list-iter.h"
#include "ioloop.h"

#include "folder-quota-plugin.h"
#include "mp-dovecot.h"

#if FQ_DOVECOT24
#  include "settings.h"
#  include "mailbox-list-private.h"
#  include "mail-storage-settings.h"
#  include "wildcard-match.h"
#endif

#define FQ_MATCH_STACK 8

void fq_roots_user_init(struct fq_user *fuser)
{
	i_array_init(&fuser->roots, 8);
	fuser->pending_pool = pool_alloconly_create("folder_quota pending", 512);
	i_array_init(&fuser->pending, 4);
	i_array_init(&fuser->filter_folders, 8);
	i_array_init(&fuser->settings_checked, 8);
}

void fq_roots_user_deinit(struct fq_user *fuser)
{
	char *folder;

	array_free(&fuser->roots);
	array_free(&fuser->pending);
	pool_unref(&fuser->pending_pool);
	array_foreach_elem(&fuser->filter_folders, folder)
		i_free(folder);
	array_free(&fuser->filter_folders);
	array_foreach_elem(&fuser->settings_checked, folder)
		i_free(folder);
	array_free(&fuser->settings_checked);
}

struct fq_root *fq_roots_find(struct fq_user *fuser, const char *vname)
{
	struct fq_root *froot;

	array_foreach_elem(&fuser->roots, froot) {
		if (strcmp(froot->vname, vname) == 0)
			return froot;
	}
	return NULL;
}

unsigned int fq_roots_match(struct fq_user *fuser, const char *vname,
			    const struct fq_root_spec **specs_r)
{
	struct mail_namespace *ns = fuser->ns;
	struct fq_match stack_matches[FQ_MATCH_STACK], *matches = stack_matches;
	struct fq_root_spec *specs;
	const char *name, *vprefix;
	size_t i, count;

	*specs_r = NULL;
	if (ns == NULL || fuser->rules == NULL)
		return 0;
	/* The rules see the name without the namespace prefix.  In a
	   namespace with a prefix only INBOX lies outside it. */
	if (ns->prefix_len > 0 &&
	    strncmp(vname, ns->prefix, ns->prefix_len) == 0 &&
	    vname[ns->prefix_len] != '\0') {
		name = vname + ns->prefix_len;
		vprefix = ns->prefix;
	} else {
		name = vname;
		vprefix = "";
	}
	count = fq_rules_match(fuser->rules, name, fuser->sep,
			       matches, FQ_MATCH_STACK);
	if (count > FQ_MATCH_STACK) {
		matches = t_new(struct fq_match, count);
		count = fq_rules_match(fuser->rules, name, fuser->sep,
				       matches, count);
	}
	if (count == 0)
		return 0;
	specs = t_new(struct fq_root_spec, count);
	for (i = 0; i < count; i++) {
		specs[i].vname = t_strconcat(vprefix,
			t_strndup(name, matches[i].root_len), NULL);
		specs[i].scope = matches[i].scope;
		specs[i].storage = matches[i].storage;
		specs[i].messages = matches[i].messages;
		specs[i].expunge_oldest = matches[i].expunge_oldest;
	}
	*specs_r = specs;
	return count;
}

#if FQ_DOVECOT24
/* The settings filter name of the folder's root: stable for the session,
   so the overrides written for it are written once. */
static const char *fq_filter_name(struct fq_user *fuser, const char *vname,
				  bool *new_r)
{
	char *folder;
	unsigned int i = 0;

	*new_r = FALSE;
	array_foreach_elem(&fuser->filter_folders, folder) {
		if (strcmp(folder, vname) == 0)
			return t_strdup_printf("folder_quota_%u", i + 1);
		i++;
	}
	folder = i_strdup(vname);
	array_push_back(&fuser->filter_folders, &folder);
	*new_r = TRUE;
	return t_strdup_printf("folder_quota_%u", i + 1);
}

/* The quota_root_settings of a root come from the settings filter
   "quota/<filter>", looked up again at every check (quota_ignore, the
   limits) and for each quota_warning; settings overrides on the user's
   settings instance define that filter for our roots.  Each override costs
   a little in every settings lookup of the user (and 2.4 makes dozens per
   command), so all the roots of a user share one filter, FQ_SHARED_FILTER,
   with the limits 0 there: the quota plugin then uses root->bytes_limit and
   root->count_limit, which are ours, and each root's name is set on its own
   settings struct (fq_backend_init()).  Only when quota_warning blocks
   apply to the roots does each root get a filter of its own with its
   limits, since a warning's percentage is of the limit in the settings. */
#define FQ_SHARED_FILTER "folder_quota"

static void fq_override_write_prefix_24(struct fq_user *fuser,
					const char *prefix,
					const char *const *keyvalues)
{
	struct settings_instance *instance;
	unsigned int i;

	instance = settings_instance_find(fuser->user->event);
	i_assert(instance != NULL);
	for (i = 0; keyvalues[i] != NULL; i += 2) {
		settings_override(instance, t_strconcat(prefix, keyvalues[i], NULL),
				  keyvalues[i + 1], SETTINGS_OVERRIDE_TYPE_CODE);
	}
}

static void fq_override_write_24(struct fq_user *fuser, const char *filter,
				 const char *const *keyvalues)
{
	fq_override_write_prefix_24(fuser, t_strdup_printf("quota/%s/",
				    settings_section_escape(filter)), keyvalues);
}

/* A filter in an override is resolved step by step, each step by a lookup
   of a settings struct that knows the key: the "quota" filter array is in
   quota_setting_parser_info.  Look it up once after writing overrides so
   that the roots' own lookups find their filters. */
static bool fq_override_prime_24(struct fq_user *fuser)
{
	const struct quota_settings *qset;
	const char *error;

	if (settings_get(fuser->ns->list->event, &quota_setting_parser_info, 0,
			 &qset, &error) < 0) {
		e_error(fuser->event, "%s", error);
		return FALSE;
	}
	settings_free(qset);
	return TRUE;
}

/* What every folder root's settings say, whichever filter it has, among
   the settings the quota plugin looks up again at every check: our driver
   (the filter must exist), its limits (0 on the shared filter, so that
   root->bytes_limit and root->count_limit, ours, apply) and nothing the
   admin set for quota roots in general, for the user's own root or in a
   mailbox block: no quota_ignore, percentages of 100, no
   quota_storage_extra.  Each override costs every settings lookup of the
   user a filter match, so the settings the quota plugin reads only from
   the struct it got when the root was made are set there instead
   (fq_backend_init()), and on the shared filter only the settings the
   configuration gives another value are overridden (fq_neutralize_24()). */
static const char *const fq_fixed_settings[] = {
	"quota_driver", FOLDER_QUOTA_BACKEND_NAME,
	"quota_storage_extra", "0",
	"quota_storage_percentage", "100",
	"quota_message_percentage", "100",
	"quota_ignore", "no",
	NULL
};

#define FQ_FIXES_MAX (2 * 6 + 1)

/* Fills kv (FQ_FIXES_MAX) with the key-value pairs of the settings of set
   that are not what a folder root with these limits needs (storage and
   messages as in its filter: 0 on the shared one), NULL-terminated.
   Returns how many there are. */
static unsigned int
fq_settings_fixes_24(const struct quota_root_settings *set,
		     uint64_t storage, uint64_t messages, const char **kv)
{
	unsigned int n = 0;

	if (set->quota_storage_size != storage) {
		kv[n++] = "quota_storage_size";
		kv[n++] = dec2str(storage);
	}
	if (set->quota_message_count != messages) {
		kv[n++] = "quota_message_count";
		kv[n++] = dec2str(messages);
	}
	if (set->quota_storage_extra != 0) {
		kv[n++] = "quota_storage_extra";
		kv[n++] = "0";
	}
	if (set->quota_storage_percentage != 100) {
		kv[n++] = "quota_storage_percentage";
		kv[n++] = "100";
	}
	if (set->quota_message_percentage != 100) {
		kv[n++] = "quota_message_percentage";
		kv[n++] = "100";
	}
	if (set->quota_ignore) {
		kv[n++] = "quota_ignore";
		kv[n++] = "no";
	}
	kv[n] = NULL;
	return n / 2;
}

/* Writes, under prefix, an override for each of those settings.  Returns
   how many it wrote. */
static unsigned int
fq_neutralize_24(struct fq_user *fuser, const char *prefix,
		 const struct quota_root_settings *set,
		 uint64_t storage, uint64_t messages)
{
	const char *kv[FQ_FIXES_MAX];
	unsigned int n = fq_settings_fixes_24(set, storage, messages, kv);

	if (n > 0)
		fq_override_write_prefix_24(fuser, prefix, kv);
	return n;
}

/* Decides once per user whether the roots share FQ_SHARED_FILTER. */
static bool fq_filter_mode_24(struct fq_user *fuser)
{
	const struct quota_root_settings *set;
	const char *error;

	if (fuser->filter_mode != FQ_FILTER_UNDECIDED)
		return TRUE;
	if (settings_instance_find(fuser->user->event) == NULL) {
		e_error(fuser->event, "no settings instance: no folder roots");
		return FALSE;
	}
	const char *const driver[] = {
		"quota_driver", FOLDER_QUOTA_BACKEND_NAME,
		NULL
	};
	fq_override_write_24(fuser, FQ_SHARED_FILTER, driver);
	if (!fq_override_prime_24(fuser))
		return FALSE;
	if (settings_get_filter(fuser->ns->list->event, "quota", FQ_SHARED_FILTER,
				&quota_root_setting_parser_info, 0,
				&set, &error) < 0) {
		e_error(fuser->event, "%s", error);
		return FALSE;
	}
	fuser->filter_mode = array_is_created(&set->quota_warnings) &&
		!array_is_empty(&set->quota_warnings) ?
		FQ_FILTER_PER_ROOT : FQ_FILTER_SHARED;
	/* what the configuration says for quota roots in general (a mailbox
	   block is seen when a transaction in that mailbox begins:
	   fq_roots_box_settings()) */
	if (fuser->filter_mode == FQ_FILTER_SHARED &&
	    fq_neutralize_24(fuser, t_strdup_printf("quota/%s/",
			     FQ_SHARED_FILTER), set, 0, 0) > 0 &&
	    !fq_override_prime_24(fuser)) {
		settings_free(set);
		return FALSE;
	}
	settings_free(set);
	return TRUE;
}

/* The settings of filter as a quota root governing box sees them; -1 on
   error (logged). */
static int fq_box_root_settings_24(struct fq_user *fuser, struct mailbox *box,
				   const char *filter,
				   const struct quota_root_settings **set_r)
{
	const char *error;

	if (settings_get_filter(box->event, "quota", filter,
				&quota_root_setting_parser_info, 0,
				set_r, &error) < 0) {
		e_error(fuser->event, "%s", error);
		return -1;
	}
	return 0;
}

/* Primes the overrides written for a mailbox block: their filter
   (namespace/NS/mailbox/NAME/quota/FILTER/) is resolved one part at a time,
   each by a lookup of the settings struct that knows that part (see
   fq_override_prime_24()). */
static bool fq_box_prime_24(struct fq_user *fuser, struct mailbox *box)
{
	const struct mail_user_settings *user_set;
	const struct mail_namespace_settings *ns_set;
	const struct quota_settings *quota_set;
	const char *error;

	if (settings_get(box->event, &mail_user_setting_parser_info, 0,
			 &user_set, &error) < 0)
		goto failed;
	settings_free(user_set);
	if (settings_get(box->event, &mail_namespace_setting_parser_info, 0,
			 &ns_set, &error) < 0)
		goto failed;
	settings_free(ns_set);
	if (settings_get(box->event, &quota_setting_parser_info, 0,
			 &quota_set, &error) < 0)
		goto failed;
	settings_free(quota_set);
	return TRUE;
failed:
	e_error(fuser->event, "%s", error);
	return FALSE;
}

/* Makes the settings of froot's filter, as a lookup for box sees them,
   what the root needs.  What can make them differ from the user-level
   ones is a mailbox block of box's namespace that matches box (an admin's
   `mailbox Trash { quota_storage_extra = 100M }` meant for the user's
   root applies to every root): the overrides are written under each such
   block, where they come before the block's own settings.  Returns FALSE
   when the settings are still not right. */
static bool fq_box_neutralize_24(struct fq_user *fuser, struct mailbox *box,
				 struct fq_root *froot)
{
	const char *filter = froot->root.set_filter_name;
	const struct mail_namespace *ns = box->list->ns;
	const struct quota_root_settings *set;
	const char *kv[FQ_FIXES_MAX], *name, *block;
	uint64_t storage = 0, messages = 0;
	unsigned int i, count, written = 0;

	if (fuser->filter_mode == FQ_FILTER_PER_ROOT) {
		storage = froot->storage_limit;
		messages = froot->message_limit;
	}
	if (fq_box_root_settings_24(fuser, box, filter, &set) < 0)
		return FALSE;
	count = fq_settings_fixes_24(set, storage, messages, kv);
	settings_free(set);
	if (count == 0)
		return TRUE;
	if (!array_is_created(&ns->set->parsed_mailboxes))
		return FALSE;

	/* as lib-storage matches the blocks: the name without the
	   namespace prefix against each block's name (a wildcard) */
	name = box->vname;
	if (ns->prefix_len > 0 && str_begins_with(name, ns->prefix))
		name += ns->prefix_len;
	const struct mailbox_settings *const *blocks =
		array_get(&ns->set->parsed_mailboxes, &count);
	for (i = 0; i < count; i++) {
		if (!wildcard_match(name, blocks[i]->name))
			continue;
		block = array_idx_elem(&ns->set->mailboxes, i);
		fq_override_write_prefix_24(fuser, t_strdup_printf(
			"namespace/%s/mailbox/%s/quota/%s/",
			settings_section_escape(ns->set->name),
			settings_section_escape(block),
			settings_section_escape(filter)), kv);
		written++;
	}
	if (written == 0 || !fq_box_prime_24(fuser, box) ||
	    fq_box_root_settings_24(fuser, box, filter, &set) < 0)
		return FALSE;
	count = fq_settings_fixes_24(set, storage, messages, kv);
	settings_free(set);
	return count == 0;
}

/* The settings filter of the root for spec (writing its overrides when it
   has one of its own), or NULL. */
static const char *fq_override_24(struct fq_user *fuser,
				  const struct fq_root_spec *spec)
{
	const char *filter;
	bool new_filter;

	if (!fq_filter_mode_24(fuser))
		return NULL;
	if (fuser->filter_mode == FQ_FILTER_SHARED)
		return FQ_SHARED_FILTER;
	filter = fq_filter_name(fuser, spec->vname, &new_filter);
	const char *const own[] = {
		"quota_storage_size", dec2str(spec->storage),
		"quota_message_count", dec2str(spec->messages),
		NULL
	};
	if (new_filter)
		fq_override_write_24(fuser, filter, fq_fixed_settings);
	/* the limits may be new */
	fq_override_write_24(fuser, filter, own);
	return filter;
}

/* The root of spec, whose filter exists (and is primed). */
static struct fq_root *fq_add_24(struct fq_user *fuser,
				 const struct fq_root_spec *spec)
{
	struct fq_root *froot;
	bool new_filter;
	const char *filter = fuser->filter_mode == FQ_FILTER_SHARED ?
		FQ_SHARED_FILTER : fq_filter_name(fuser, spec->vname, &new_filter);

	fuser->creating = spec;
	quota_add_user_namespace(fuser->quota, filter, fuser->ns);
	fuser->creating = NULL;

	/* fq_backend_init() put it into fuser->created */
	froot = fuser->created;
	fuser->created = NULL;
	return froot;
}
#else
static struct fq_root *fq_add_23(struct fq_user *fuser,
				 const struct fq_root_spec *spec)
{
	struct quota *quota = fuser->quota;
	struct quota_root_settings *root_set;
	struct quota_root *root;
	struct fq_root *froot;
	const char *error;

	/* As quota_root_init() does for a root from the settings. */
	root = fq_backend.v.alloc();
	root->pool = pool_alloconly_create("folder quota root", 1024);
	root_set = p_new(root->pool, struct quota_root_settings, 1);
	root_set->name = p_strdup(root->pool, fq_root_name(spec->vname));
	root_set->set_name = FOLDER_QUOTA_BACKEND_NAME;
	root_set->set = quota->set;
	root_set->backend = &fq_backend;
	p_array_init(&root_set->rules, root->pool, 1);
	p_array_init(&root_set->warning_rules, root->pool, 4);

	root->set = root_set;
	root->quota = quota;
	root->backend = fq_backend;
	array_create(&root->quota_module_contexts, root->pool,
		     sizeof(void *), 10);
	root->backend.event = event_create(quota->event);
	event_drop_parent_log_prefixes(root->backend.event, 1);
	event_set_forced_debug(root->backend.event, quota->set->debug);

	fuser->creating = spec;
	if (root->backend.v.init(root, NULL, &error) < 0) {
		fuser->creating = NULL;
		e_error(fuser->event, "root for %s: %s", spec->vname, error);
		pool_t pool = root->pool;
		event_unref(&root->backend.event);
		root->backend.v.deinit(root);
		pool_unref(&pool);
		return NULL;
	}
	fuser->creating = NULL;
	froot = (struct fq_root *)root;

	/* folder_quota_warning, folder_quota_warning2, ...: the stock
	   quota_warning syntax, for every folder root; the command gets the
	   governed folder as its last argument (in modified UTF-7, so it has
	   no spaces unless the folder's name has: those are sent as %20). */
	const char *name = "folder_quota_warning", *rule;
	for (unsigned int i = 2;; i++) {
		rule = mp_dovecot_user_field(fuser->user, name);
		if (rule == NULL || *rule == '\0')
			break;
		string_t *arg = t_str_new(64);
		const char *folder = froot->name + strlen(FOLDER_QUOTA_ROOT_PREFIX);
		for (; *folder != '\0'; folder++) {
			if (*folder == ' ')
				str_append(arg, "%20");
			else
				str_append_c(arg, *folder);
		}
		rule = t_strdup_printf("%s %s", rule, str_c(arg));
		if (quota_root_add_warning_rule(root_set, rule, &error) < 0) {
			e_error(fuser->event, "Invalid %s: %s", name, error);
			break;
		}
		name = t_strdup_printf("folder_quota_warning%u", i);
	}
	fq_root_set_limits(froot, spec);
	array_push_back(FQ_QUOTA_ROOTS(quota), &root);
	return froot;
}
#endif

/* Adds the roots for specs (or updates the limits of the ones there are),
   in one batch: on 2.4 the settings overrides of all of them are written
   first and resolved once. */
static void fq_roots_add(struct fq_user *fuser,
			 const ARRAY_TYPE(fq_root_spec) *specs)
{
	ARRAY(const struct fq_root_spec *) todo;
	const struct fq_root_spec *spec;
	struct fq_root *froot;
	unsigned int room;

	i_assert(fuser->open_transactions == 0);
	if (array_is_empty(specs))
		return;
	room = array_count(&fuser->roots) >= FOLDER_QUOTA_MAX_ROOTS ? 0 :
		FOLDER_QUOTA_MAX_ROOTS - array_count(&fuser->roots);
	t_array_init(&todo, array_count(specs));
	array_foreach(specs, spec) {
		froot = fq_roots_find(fuser, spec->vname);
		if (froot != NULL) {
#if FQ_DOVECOT24
			if ((froot->storage_limit != spec->storage ||
			     froot->message_limit != spec->messages) &&
			    fuser->filter_mode == FQ_FILTER_PER_ROOT)
				(void)fq_override_24(fuser, spec);
#endif
			fq_root_set_limits(froot, spec);
		} else if (room == 0) {
			if (!fuser->max_roots_logged) {
				e_warning(fuser->event, "more than %u governed "
					  "folders: %s and later ones get no "
					  "folder limit", FOLDER_QUOTA_MAX_ROOTS,
					  spec->vname);
				fuser->max_roots_logged = TRUE;
			}
		} else {
#if FQ_DOVECOT24
			if (fq_override_24(fuser, spec) == NULL)
				continue;
#endif
			room--;
			array_push_back(&todo, &spec);
		}
	}
#if FQ_DOVECOT24
	if (!fq_override_prime_24(fuser))
		return;
#endif
	array_foreach_elem(&todo, spec) {
#if FQ_DOVECOT24
		froot = fq_add_24(fuser, spec);
#else
		froot = fq_add_23(fuser, spec);
#endif
		if (froot == NULL)
			continue;
		array_push_back(&fuser->roots, &froot);
		e_debug(fuser->event, "root %s: storage=%"PRIu64" messages=%"PRIu64
			" scope=%s%s", froot->name, spec->storage, spec->messages,
			mp_folder_scope_name(spec->scope),
			spec->expunge_oldest ? " when_full=expunge_oldest" : "");
	}
}

static void fq_roots_remove(struct fq_user *fuser, struct fq_root *froot)
{
	struct quota_root *root = &froot->root, *const *roots;
	unsigned int i, count;
	pool_t pool;

	i_assert(fuser->open_transactions == 0);
	roots = array_get(FQ_QUOTA_ROOTS(fuser->quota), &count);
	for (i = 0; i < count; i++) {
		if (roots[i] == root) {
			array_delete(FQ_QUOTA_ROOTS(fuser->quota), i, 1);
			break;
		}
	}
	roots = (struct quota_root *const *)array_get(&fuser->roots, &count);
	for (i = 0; i < count; i++) {
		if (roots[i] == root) {
			array_delete(&fuser->roots, i, 1);
			break;
		}
	}
	e_debug(fuser->event, "root %s removed", froot->name);

	/* As quota_root_deinit() does. */
	pool = root->pool;
	event_unref(&root->backend.event);
#if FQ_DOVECOT24
	const struct quota_root_settings *set = root->set;
	settings_free(set);
#endif
	root->backend.v.deinit(root);
	pool_unref(&pool);
}

static void fq_roots_remove_all(struct fq_user *fuser)
{
	while (array_count(&fuser->roots) > 0)
		fq_roots_remove(fuser, array_idx_elem(&fuser->roots, 0));
}

/* Whether vname is folder or lies below it. */
static bool fq_in_subtree(struct fq_user *fuser, const char *vname,
			  const char *folder)
{
	size_t len = strlen(folder);

	return strncmp(vname, folder, len) == 0 &&
		(vname[len] == '\0' ||
		 (fuser->sep != '\0' && vname[len] == fuser->sep));
}

/* Adds the matches of vname to specs (once per governed folder). */
static void fq_roots_collect(struct fq_user *fuser, const char *vname,
			     ARRAY_TYPE(fq_root_spec) *specs)
{
	const struct fq_root_spec *matches, *spec;
	unsigned int i, count;

	count = fq_roots_match(fuser, vname, &matches);
	for (i = 0; i < count; i++) {
		bool seen = FALSE;

		array_foreach(specs, spec) {
			if (strcmp(spec->vname, matches[i].vname) == 0) {
				seen = TRUE;
				break;
			}
		}
		if (!seen)
			array_push_back(specs, &matches[i]);
	}
}

/* Adds the roots of the existing folders, all or (subtree != NULL) those
   of subtree and below. */
static void fq_roots_scan_list(struct fq_user *fuser, const char *subtree)
{
	struct mailbox_list_iterate_context *iter;
	const struct mailbox_info *info;
	ARRAY_TYPE(fq_root_spec) specs;

	t_array_init(&specs, 16);
	/* "*" and filtering here, not a pattern built from a name: names
	   may contain the wildcards themselves. */
	iter = mailbox_list_iter_init(fuser->ns->list, "*",
				      MAILBOX_LIST_ITER_RETURN_NO_FLAGS |
				      MAILBOX_LIST_ITER_SKIP_ALIASES |
				      MAILBOX_LIST_ITER_NO_AUTO_BOXES);
	while ((info = mailbox_list_iter_next(iter)) != NULL) {
		if ((info->flags & (MAILBOX_NONEXISTENT | MAILBOX_NOSELECT)) != 0)
			continue;
		if (subtree != NULL && !fq_in_subtree(fuser, info->vname, subtree))
			continue;
		fq_roots_collect(fuser, info->vname, &specs);
	}
	if (mailbox_list_iter_deinit(&iter) < 0) {
		e_error(fuser->event, "listing the folders failed: %s",
			mailbox_list_get_last_internal_error(fuser->ns->list,
							     NULL));
	}
	/* INBOX is not always listed by a namespace with a prefix. */
	if (subtree == NULL || fq_in_subtree(fuser, "INBOX", subtree))
		fq_roots_collect(fuser, "INBOX", &specs);
	fq_roots_add(fuser, &specs);
}

void fq_roots_scan(struct fq_user *fuser)
{
	if (fuser->ns == NULL || fuser->rules == NULL)
		return;
	T_BEGIN {
		fq_roots_scan_list(fuser, NULL);
	} T_END;
}

static void fq_pending_push(struct fq_user *fuser, enum fq_pending_op op,
			    const struct fq_root_spec *spec)
{
	struct fq_pending *p;

	array_foreach_modifiable(&fuser->pending, p) {
		if (p->op == op && strcmp(p->spec.vname, spec->vname) == 0) {
			p->spec = *spec;
			p->spec.vname = p_strdup(fuser->pending_pool, spec->vname);
			return;
		}
	}
	p = array_append_space(&fuser->pending);
	p->op = op;
	p->spec = *spec;
	p->spec.vname = p_strdup(fuser->pending_pool, spec->vname);
}

void fq_roots_queue_add(struct fq_user *fuser, const char *vname)
{
	/* The folder and anything below it that now exists (a rename
	   brings its children along). */
	struct fq_root_spec spec = { .vname = vname };

	fq_pending_push(fuser, FQ_PENDING_ADD, &spec);
}

void fq_roots_queue_remove(struct fq_user *fuser, const char *vname)
{
	struct fq_root_spec spec = { .vname = vname };

	fq_pending_push(fuser, FQ_PENDING_REMOVE, &spec);
}

static void fq_roots_apply_remove(struct fq_user *fuser, const char *vname)
{
	struct fq_root *froot;
	unsigned int i;

	for (i = 0; i < array_count(&fuser->roots); ) {
		froot = array_idx_elem(&fuser->roots, i);
		if (fq_in_subtree(fuser, froot->vname, vname))
			fq_roots_remove(fuser, froot);
		else
			i++;
	}
}

static void fq_roots_reload(struct fq_user *fuser)
{
	struct fq_rules *rules;
	int ret;

	ret = fq_rules_init(fuser->user, &rules);
	fq_roots_remove_all(fuser);
	fq_rules_deinit(&fuser->rules);
	fuser->generation++;
	if (ret <= 0) {
		e_debug(fuser->event, "%s - folder limits are off",
			ret == 0 ? "no folder rule applies any more" :
			"no policy");
		return;
	}
	fuser->rules = rules;
	fq_roots_scan(fuser);
}

void fq_roots_safe_point(struct fq_user *fuser, bool reload)
{
	const struct fq_pending *p;

	if (!fuser->ready || fuser->open_transactions > 0)
		return;
	/* the policy file is looked at (stat) at most once a second */
	if (reload && fuser->reload_checked == ioloop_time)
		reload = FALSE;
	else if (reload)
		fuser->reload_checked = ioloop_time;
	if (reload && (fuser->rules == NULL || fq_rules_is_stale(fuser->rules))) {
		array_clear(&fuser->pending);
		p_clear(fuser->pending_pool);
		fq_roots_reload(fuser);
		return;
	}
	if (array_is_empty(&fuser->pending))
		return;
	array_foreach(&fuser->pending, p) {
		if (p->op == FQ_PENDING_REMOVE)
			fq_roots_apply_remove(fuser, p->spec.vname);
	}
	array_foreach(&fuser->pending, p) {
		if (p->op == FQ_PENDING_ADD && fuser->rules != NULL) T_BEGIN {
			fq_roots_scan_list(fuser, p->spec.vname);
		} T_END;
	}
	array_clear(&fuser->pending);
	p_clear(fuser->pending_pool);
}

void fq_roots_box_settings(struct fq_user *fuser, struct mailbox *box)
{
#if FQ_DOVECOT24
	struct fq_root **roots;
	unsigned int i, count;
	char *vname;

	if (fuser->filter_mode == FQ_FILTER_UNDECIDED)
		return;
	if (fuser->settings_checked_generation != fuser->generation) {
		/* new rules: a root's limits in its own filter may have
		   changed, and with them what its mailboxes need */
		array_foreach_elem(&fuser->settings_checked, vname)
			i_free(vname);
		array_clear(&fuser->settings_checked);
		fuser->settings_checked_generation = fuser->generation;
	}
	array_foreach_elem(&fuser->settings_checked, vname) {
		if (strcmp(vname, box->vname) == 0)
			return;
	}
	T_BEGIN {
		count = fq_mailbox_roots(box, &roots);
		for (i = 0; i < count; i++) {
			if (!fq_box_neutralize_24(fuser, box, roots[i])) {
				e_error(fuser->event, "The quota settings of "
					"the configuration for mailbox %s "
					"change the limit of %s, and "
					"folder_quota could not undo that",
					box->vname, roots[i]->name);
			}
		}
		if (count > 0) {
			vname = i_strdup(box->vname);
			array_push_back(&fuser->settings_checked, &vname);
		}
	} T_END;
#else
	(void)fuser;
	(void)box;
#endif
}

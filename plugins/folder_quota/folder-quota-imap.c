/* folder-quota-imap.c: what folder_quota adds to the IMAP server.
 *
 * - CAPABILITY: QUOTA=RES-STORAGE and QUOTA=RES-MESSAGE (RFC 9208), the
 *   two resources every folder root and the count backend report.
 * - STATUS: RFC 9208 requires a server that advertises those to serve the
 *   DELETED and DELETED-STORAGE items (messages with \Deleted, and their
 *   size in units of 1024 octets, rounded up); the STATUS command is
 *   wrapped so that it does, and any other item is answered as stock.
 * - A hook before every command: a safe point to apply root changes and
 *   to notice a new policy file (folder-quota-roots.c).
 * - Dovecot 2.4: GETQUOTAROOT is answered here, line for line as
 *   imap_quota answers it, except that a folder root's limits are taken
 *   from the root instead of being looked up in the settings again for
 *   each resource (fq_quota_reply()).
 *
 * folder_quota is one module loaded by every mail process, while these
 * functions live in the imap binary: they are looked up at run time
 * (dlsym), and only in the imap process.  Nothing here is linked against
 * them, so the module loads in lmtp, lda and doveadm as well. */

#include "lib.h"
#include "str.h"
#include "ostream.h"
#include "guid.h"
#include "imap-arg.h"
#include "imap-quote.h"
#include "mail-search-build.h"
#include "mail-namespace.h"
#include "master-service.h"
#include "imap-common.h"
#include "imap-commands.h"
#include "imap-commands-util.h"
#include "imap-status.h"
#include "imap-resp-code.h"

#include "folder-quota-plugin.h"

#include <dlfcn.h>

struct fq_imap_api {
	imap_client_created_func_t *(*client_created_hook_set)(
		imap_client_created_func_t *new_hook);
	void (*add_capability)(struct client *client, const char *capability);
	FQ_CONST_COMMAND struct command *(*command_find)(const char *name);
	void (*command_register)(const char *name, command_func_t *func,
				 enum command_flags flags);
	void (*command_unregister)(const char *name);
	void (*hook_register)(command_hook_callback_t *pre,
			      command_hook_callback_t *post);
	void (*hook_unregister)(command_hook_callback_t *pre,
				command_hook_callback_t *post);
	bool (*read_args)(struct client_command_context *cmd,
			  unsigned int count, unsigned int flags,
			  const struct imap_arg **args_r);
	void (*send_tagline)(struct client_command_context *cmd,
			     const char *data);
	void (*send_command_error)(struct client_command_context *cmd,
				   const char *msg);
	int (*send_line_next)(struct client *client, const char *data);
	struct mail_namespace *(*find_namespace)(
		struct client_command_context *cmd, const char **mailbox);
	int (*status_parse_items)(struct client_command_context *cmd,
				  const struct imap_arg *args,
				  struct imap_status_items *items_r);
	int (*status_get)(struct client_command_context *cmd,
			  struct mail_namespace *ns, const char *mailbox,
			  const struct imap_status_items *items,
			  struct imap_status_result *result_r);
};

static struct fq_imap_api fq_imap;
static bool fq_imap_active;
static struct module *fq_imap_module;
static imap_client_created_func_t *fq_next_client_created;
static command_func_t *fq_stock_status;
static enum command_flags fq_stock_status_flags;
#if FQ_DOVECOT24
static command_func_t *fq_stock_getquotaroot;
static enum command_flags fq_stock_getquotaroot_flags;
#endif

#define FQ_IMAP_SYMBOL(field, name) \
	((fq_imap.field = dlsym(RTLD_DEFAULT, name)) != NULL)

static bool fq_imap_lookup(void)
{
	/* Only the imap binary has all of these; they must all be there. */
	return FQ_IMAP_SYMBOL(client_created_hook_set,
			      "imap_client_created_hook_set") &&
		FQ_IMAP_SYMBOL(add_capability, "client_add_capability") &&
		FQ_IMAP_SYMBOL(command_find, "command_find") &&
		FQ_IMAP_SYMBOL(command_register, "command_register") &&
		FQ_IMAP_SYMBOL(command_unregister, "command_unregister") &&
		FQ_IMAP_SYMBOL(hook_register, "command_hook_register") &&
		FQ_IMAP_SYMBOL(hook_unregister, "command_hook_unregister") &&
		FQ_IMAP_SYMBOL(read_args, "client_read_args") &&
		FQ_IMAP_SYMBOL(send_tagline, "client_send_tagline") &&
		FQ_IMAP_SYMBOL(send_command_error, "client_send_command_error") &&
		FQ_IMAP_SYMBOL(send_line_next, "client_send_line_next") &&
		FQ_IMAP_SYMBOL(find_namespace, "client_find_namespace") &&
		FQ_IMAP_SYMBOL(status_parse_items, "imap_status_parse_items") &&
		FQ_IMAP_SYMBOL(status_get, "imap_status_get");
}

static void fq_client_created(struct client **client)
{
	struct mail_user *user = (*client)->user;

	if (mail_user_is_plugin_loaded(user, fq_imap_module) &&
	    QUOTA_USER_CONTEXT(user) != NULL) {
		fq_imap.add_capability(*client, "QUOTA=RES-STORAGE");
		fq_imap.add_capability(*client, "QUOTA=RES-MESSAGE");
	}
	if (fq_next_client_created != NULL)
		fq_next_client_created(client);
}

static void fq_command_pre(struct client_command_context *cmd)
{
	struct fq_user *fuser;

	if (cmd->client->user == NULL)
		return;
	fuser = FQ_USER_CONTEXT(cmd->client->user);
	if (fuser != NULL)
		fq_roots_safe_point(fuser, TRUE);
}

static void fq_command_post(struct client_command_context *cmd ATTR_UNUSED)
{
}

/* Messages with \Deleted in box and the sum of their sizes. */
static int fq_status_deleted(struct mailbox *box, bool want_size,
			     uint32_t *count_r, uint64_t *bytes_r)
{
	struct mailbox_transaction_context *t;
	struct mail_search_args *search_args;
	struct mail_search_arg *arg;
	struct mail_search_context *search_ctx;
	struct mail *mail;
	uoff_t size;
	int ret = 0;

	*count_r = 0;
	*bytes_r = 0;
	t = mailbox_transaction_begin(box, 0, "folder_quota STATUS DELETED");
	search_args = mail_search_build_init();
	arg = mail_search_build_add(search_args, SEARCH_FLAGS);
	arg->value.flags = MAIL_DELETED;
	search_ctx = mailbox_search_init(t, search_args, NULL,
					 want_size ? MAIL_FETCH_VIRTUAL_SIZE : 0,
					 NULL);
	mail_search_args_unref(&search_args);
	while (mailbox_search_next(search_ctx, &mail)) {
		(*count_r)++;
		if (want_size && mail_get_virtual_size(mail, &size) == 0)
			*bytes_r += size;
	}
	if (mailbox_search_deinit(&search_ctx) < 0)
		ret = -1;
	(void)mailbox_transaction_commit(&t);
	return ret;
}

/* As imap_status_send(), with DELETED and DELETED-STORAGE added. */
static void
fq_status_send(struct client *client, const char *mailbox_mutf7,
	       const struct imap_status_items *items,
	       const struct imap_status_result *result,
	       bool deleted, bool deleted_storage,
	       uint32_t deleted_count, uint64_t deleted_bytes)
{
	const struct mailbox_status *status = &result->status;
	string_t *str = t_str_new(128);
	size_t prefix_len;

	str_append(str, "* STATUS ");
	imap_append_astring(str, mailbox_mutf7);
	str_append(str, " (");
	prefix_len = str_len(str);
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_MESSAGES))
		str_printfa(str, "MESSAGES %u ", status->messages);
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_RECENT))
		str_printfa(str, "RECENT %u ", status->recent);
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_UIDNEXT))
		str_printfa(str, "UIDNEXT %u ", status->uidnext);
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_UIDVALIDITY))
		str_printfa(str, "UIDVALIDITY %u ", status->uidvalidity);
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_UNSEEN))
		str_printfa(str, "UNSEEN %u ", status->unseen);
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_HIGHESTMODSEQ)) {
		str_printfa(str, "HIGHESTMODSEQ %"PRIu64" ",
			    status->highest_modseq);
	}
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_SIZE)) {
		str_printfa(str, "SIZE %"PRIu64" ",
			    result->metadata.virtual_size);
	}
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_X_SIZE)) {
		str_printfa(str, "X-SIZE %"PRIu64" ",
			    result->metadata.virtual_size);
	}
	if (HAS_ALL_BITS(items->flags, IMAP_STATUS_ITEM_X_GUID)) {
		str_printfa(str, "X-GUID %s ",
			    guid_128_to_string(result->metadata.guid));
	}
	if (deleted)
		str_printfa(str, "DELETED %u ", deleted_count);
	if (deleted_storage) {
		str_printfa(str, "DELETED-STORAGE %"PRIu64" ",
			    (deleted_bytes + 1023) / 1024);
	}
	if (str_len(str) != prefix_len)
		str_truncate(str, str_len(str) - 1);
	str_append_c(str, ')');
	(void)fq_imap.send_line_next(client, str_c(str));
}

static bool fq_cmd_status(struct client_command_context *cmd)
{
	struct client *client = cmd->client;
	const struct imap_arg *args, *list_args;
	struct imap_arg *stock_args;
	struct imap_status_items items;
	struct imap_status_result result;
	struct mail_namespace *ns;
	struct mailbox *box;
	const char *mailbox, *orig_mailbox, *item;
	unsigned int i, n, count;
	bool deleted = FALSE, deleted_storage = FALSE, selected;
	uint32_t deleted_count = 0;
	uint64_t deleted_bytes = 0;

	/* <mailbox> <status items> */
	if (!fq_imap.read_args(cmd, 2, 0, &args))
		return FALSE;
	if (!imap_arg_get_astring(&args[0], &mailbox) ||
	    !imap_arg_get_list_full(&args[1], &list_args, &count))
		return fq_stock_status(cmd);

	/* the items stock STATUS knows, and ours */
	stock_args = t_new(struct imap_arg, count + 1);
	for (i = n = 0; i < count; i++) {
		if (imap_arg_get_atom(&list_args[i], &item) &&
		    strcasecmp(item, "DELETED") == 0)
			deleted = TRUE;
		else if (imap_arg_get_atom(&list_args[i], &item) &&
			 strcasecmp(item, "DELETED-STORAGE") == 0)
			deleted_storage = TRUE;
		else
			stock_args[n++] = list_args[i];
	}
	if (!deleted && !deleted_storage)
		return fq_stock_status(cmd);
	stock_args[n].type = IMAP_ARG_EOL;
	i_zero(&items);
	if (n > 0 && fq_imap.status_parse_items(cmd, stock_args, &items) < 0)
		return TRUE;
	/* Only our items: still let stock STATUS open the mailbox (for its
	   errors), but print none of its items. */
	struct imap_status_items shown = items;
	if (n == 0)
		items.flags = IMAP_STATUS_ITEM_MESSAGES;

	orig_mailbox = mailbox;
	ns = fq_imap.find_namespace(cmd, &mailbox);
	if (ns == NULL)
		return TRUE;
	selected = client->mailbox != NULL &&
		mailbox_equals(client->mailbox, ns, mailbox);
	if (fq_imap.status_get(cmd, ns, mailbox, &items, &result) < 0) {
		fq_imap.send_tagline(cmd, result.errstr);
		return TRUE;
	}

	box = selected ? client->mailbox :
		mailbox_alloc(ns->list, mailbox, MAILBOX_FLAG_READONLY);
	if ((!selected && mailbox_sync(box, 0) < 0) ||
	    fq_status_deleted(box, deleted_storage, &deleted_count,
			      &deleted_bytes) < 0) {
		enum mail_error error;
		const char *errstr = mailbox_get_last_error(box, &error);

		if (!selected)
			mailbox_free(&box);
		fq_imap.send_tagline(cmd, t_strconcat("NO ", errstr, NULL));
		return TRUE;
	}
	if (!selected)
		mailbox_free(&box);

	fq_status_send(client, orig_mailbox, &shown, &result, deleted,
		       deleted_storage, deleted_count, deleted_bytes);
	if (!selected)
		fq_imap.send_tagline(cmd, "OK Status completed.");
	else {
		fq_imap.send_tagline(cmd, "OK ["IMAP_RESP_CODE_CLIENTBUG"] "
				     "Status on selected mailbox completed.");
	}
	return TRUE;
}

#if FQ_DOVECOT24
/* Dovecot 2.4's quota_get_resource() looks the root's settings up for each
   resource it reports, and such a lookup costs more than the rest of
   GETQUOTAROOT: two more for each folder root made GETQUOTAROOT 1.2-1.3x as
   slow as stock.  A folder root's settings cannot change its limits (they
   are the root's own, with no percentage, extra or quota_ignore:
   fq_fixed_settings in folder-quota-roots.c), so its "* QUOTA" line is
   written from the root alone; any other root's goes through the quota
   plugin as in imap_quota.  The lines are those imap_quota writes: only
   the limited resources, STORAGE in units of 1024 octets rounded up, and
   no line for a root without one. */
static int fq_quota_reply(string_t *str, struct mail_user *user,
			  struct quota_root *root)
{
	const char *const *list, *error;
	uint64_t value, limit;
	size_t orig_len = str_len(str), prefix_len;
	enum quota_get_result ret = QUOTA_GET_RESULT_UNLIMITED;
	bool ours = root->backend.v.get_resource ==
		fq_backend.v.get_resource;
	unsigned int i;

	str_append(str, "* QUOTA ");
	imap_append_astring(str, quota_root_get_name(root));
	str_append(str, " (");
	prefix_len = str_len(str);
	list = quota_root_get_resources(root);
	for (i = 0; *list != NULL; list++) {
		if (!ours) {
			ret = quota_get_resource(root, NULL, *list, &value,
						 &limit, &error);
		} else {
			bool kilobytes = strcmp(*list,
				QUOTA_NAME_STORAGE_KILOBYTES) == 0;
			const char *name = kilobytes ?
				QUOTA_NAME_STORAGE_BYTES : *list;

			ret = root->backend.v.get_resource(root, name, &value,
							   &error);
			if (ret == QUOTA_GET_RESULT_LIMITED) {
				limit = kilobytes ?
					(uint64_t)root->bytes_limit :
					strcmp(name, QUOTA_NAME_MESSAGES) == 0 ?
					(uint64_t)root->count_limit : 0;
				if (kilobytes) {
					value = (value + 1023) / 1024;
					limit = (limit + 1023) / 1024;
				}
				if (limit == 0)
					ret = QUOTA_GET_RESULT_UNLIMITED;
			}
		}
		if (ret == QUOTA_GET_RESULT_INTERNAL_ERROR) {
			e_error(user->event,
				"Failed to get quota resource %s: %s",
				*list, error);
			break;
		}
		if (ret == QUOTA_GET_RESULT_LIMITED) {
			if (i++ > 0)
				str_append_c(str, ' ');
			str_printfa(str, "%s %"PRIu64" %"PRIu64, *list,
				    value, limit);
		}
	}
	if (str_len(str) == prefix_len)
		str_truncate(str, orig_len);
	else
		str_append(str, ")\r\n");
	return ret == QUOTA_GET_RESULT_INTERNAL_ERROR ? -1 : 0;
}

static bool fq_cmd_getquotaroot(struct client_command_context *cmd)
{
	struct client *client = cmd->client;
	const struct imap_arg *args;
	struct mail_namespace *ns;
	struct mailbox *box;
	struct quota_root_iter *iter;
	struct quota_root *root;
	const char *mailbox, *orig_mailbox;
	string_t *roots_reply, *quota_reply;
	int ret = 0;

	if (QUOTA_USER_CONTEXT(client->user) == NULL ||
	    FQ_USER_CONTEXT(client->user) == NULL)
		return fq_stock_getquotaroot(cmd);
	/* <mailbox> */
	if (!fq_imap.read_args(cmd, 1, 0, &args))
		return FALSE;
	if (!imap_arg_get_astring(&args[0], &mailbox))
		return fq_stock_getquotaroot(cmd);
	orig_mailbox = mailbox;
	ns = fq_imap.find_namespace(cmd, &mailbox);
	if (ns == NULL)
		return TRUE;
	if (ns->owner != NULL && ns->owner != client->user) {
		/* stock words it */
		return fq_stock_getquotaroot(cmd);
	}

	box = mailbox_alloc(ns->list, mailbox, MAILBOX_FLAG_READONLY);
	roots_reply = t_str_new(128);
	quota_reply = t_str_new(256);
	str_append(roots_reply, "* QUOTAROOT ");
	imap_append_astring(roots_reply, orig_mailbox);
	iter = quota_root_iter_init(box);
	while ((root = quota_root_iter_next(iter)) != NULL) {
		if (quota_root_is_hidden(root))
			continue;
		str_append_c(roots_reply, ' ');
		imap_append_astring(roots_reply, quota_root_get_name(root));
		if (fq_quota_reply(quota_reply, client->user, root) < 0)
			ret = -1;
	}
	quota_root_iter_deinit(&iter);
	mailbox_free(&box);

	if (ret < 0) {
		fq_imap.send_tagline(cmd,
			"NO Internal quota calculation error.");
	} else if (str_len(quota_reply) == 0)
		fq_imap.send_tagline(cmd, "OK No quota.");
	else {
		(void)fq_imap.send_line_next(client, str_c(roots_reply));
		o_stream_nsend(client->output, str_data(quota_reply),
			       str_len(quota_reply));
		fq_imap.send_tagline(cmd, "OK Getquotaroot completed.");
	}
	return TRUE;
}
#endif

void fq_imap_init(struct module *module)
{
	FQ_CONST_COMMAND struct command *status;

	if (strcmp(master_service_get_name(master_service), "imap") != 0 ||
	    !fq_imap_lookup())
		return;
	status = fq_imap.command_find("STATUS");
	if (status == NULL)
		return;
	fq_imap_module = module;
	fq_stock_status = status->func;
	fq_stock_status_flags = status->flags;
	fq_imap.command_unregister("STATUS");
	fq_imap.command_register("STATUS", fq_cmd_status, fq_stock_status_flags);
#if FQ_DOVECOT24
	FQ_CONST_COMMAND struct command *getquotaroot =
		fq_imap.command_find("GETQUOTAROOT");
	if (getquotaroot != NULL) {
		fq_stock_getquotaroot = getquotaroot->func;
		fq_stock_getquotaroot_flags = getquotaroot->flags;
		fq_imap.command_unregister("GETQUOTAROOT");
		fq_imap.command_register("GETQUOTAROOT", fq_cmd_getquotaroot,
					 fq_stock_getquotaroot_flags);
	}
#endif
	fq_imap.hook_register(fq_command_pre, fq_command_post);
	fq_next_client_created =
		fq_imap.client_created_hook_set(fq_client_created);
	fq_imap_active = TRUE;
}

void fq_imap_deinit(void)
{
	if (!fq_imap_active)
		return;
	fq_imap.client_created_hook_set(fq_next_client_created);
	fq_imap.hook_unregister(fq_command_pre, fq_command_post);
	fq_imap.command_unregister("STATUS");
	fq_imap.command_register("STATUS", fq_stock_status,
				 fq_stock_status_flags);
#if FQ_DOVECOT24
	if (fq_stock_getquotaroot != NULL) {
		fq_imap.command_unregister("GETQUOTAROOT");
		fq_imap.command_register("GETQUOTAROOT", fq_stock_getquotaroot,
					 fq_stock_getquotaroot_flags);
		fq_stock_getquotaroot = NULL;
	}
#endif
	fq_imap_active = FALSE;
}

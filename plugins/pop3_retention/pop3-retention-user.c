/* pop3-retention-user.c: a user's effective retention and the user
 * context.
 *
 * The retention is the policy file's (default < domain < user block) with
 * the user's override fields on top (userdb extra fields, on 2.3 also
 * plugin {} settings): pop3_retention_keep_after_retrieval, _on_dele,
 * _on_retrieve, _max_retained_size.  A bad field is logged and ignored.
 * The plugin is inert for a user when the policy cannot be loaded (the
 * glue logged the file and line), or when neither a block nor a field
 * applies to the user: stock POP3 then. */

#include "lib.h"
#include "str.h"
#include "str-sanitize.h"
#include "mail-namespace.h"
#include "pop3-retention-private.h"

struct pop3_retention_user_module pop3_retention_user_module =
	MODULE_CONTEXT_INIT(&mail_user_module_register);

struct pop3_retention_user *pop3_retention_user_get(struct mail_user *user)
{
	return POP3_RETENTION_USER_CONTEXT(user);
}

static void pop3_retention_user_deinit_pre(struct mail_user *user)
{
	struct pop3_retention_user *puser = POP3_RETENTION_USER_CONTEXT(user);

	if (puser->pop3_client != NULL) T_BEGIN {
		pop3_retention_session_end(user);
	} T_END;
	puser->pop3_client = NULL;
	puser->module_ctx.super.deinit_pre(user);
}

static void pop3_retention_user_deinit(struct mail_user *user)
{
	struct pop3_retention_user *puser = POP3_RETENTION_USER_CONTEXT(user);

	mp_user_policy_free(&puser->user_policy);
	if (array_is_created(&puser->retr_uids))
		array_free(&puser->retr_uids);
	event_unref(&puser->event);
	puser->module_ctx.super.deinit(user);
}

void pop3_retention_mail_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct pop3_retention_user *puser;
	const char *error;

	puser = p_new(user->pool, struct pop3_retention_user, 1);
	puser->module_ctx.super = *v;
	user->vlast = &puser->module_ctx.super;
	v->deinit_pre = pop3_retention_user_deinit_pre;
	v->deinit = pop3_retention_user_deinit;
	MODULE_CONTEXT_SET(user, pop3_retention_user_module, puser);

	puser->event = mp_dovecot_event_create(user->event);
	puser->user_policy = mp_dovecot_user_policy(user, "pop3_retention_",
						    puser->event, &error);
	if (puser->user_policy == NULL) {
		/* the glue logged it (once per file state) */
		e_debug(puser->event, "Inert: no policy (%s)", error);
		return;
	}
	puser->active = mp_user_policy_retention(puser->user_policy,
						 &puser->retention);
	if (!puser->active) {
		e_debug(puser->event, "Inert: no pop3_retention block applies");
		return;
	}
	if (puser->retention.on_retrieve == MP_RETRIEVE_MOVE &&
	    (puser->retention.retrieve_mailbox == NULL ||
	     puser->retention.retrieve_mailbox[0] == '\0')) {
		/* the core refuses this; never move to a nameless folder */
		puser->retention.on_retrieve = MP_RETRIEVE_SEEN;
	}
	e_debug(puser->event, "keep_after_retrieval=%llu on_dele=%s "
		"on_retrieve=%s max_retained_size=%llu",
		(unsigned long long)puser->retention.keep_after_retrieval,
		mp_dele_action_name(puser->retention.on_dele),
		mp_retrieve_action_name(puser->retention.on_retrieve),
		(unsigned long long)puser->retention.max_retained_size);
}

const char *pop3_retention_move_vname(struct mail_user *user,
				      const char *name)
{
	struct mail_namespace *ns = mail_namespace_find_inbox(user->namespaces);
	char sep = mail_namespace_get_sep(ns);
	string_t *str = t_str_new(64);

	str_append(str, ns->prefix);
	if (strcasecmp(name, "INBOX") == 0) {
		/* INBOX has no prefix in the INBOX namespace */
		return "INBOX";
	}
	for (; *name != '\0'; name++)
		str_append_c(str, *name == '/' ? sep : *name);
	return str_c(str);
}

struct mailbox *pop3_retention_move_box_alloc(struct mail_user *user)
{
	struct pop3_retention_user *puser = pop3_retention_user_get(user);
	struct mail_namespace *inbox_ns =
		mail_namespace_find_inbox(user->namespaces);
	const char *vname = pop3_retention_move_vname(
		user, puser->retention.retrieve_mailbox);
	struct mail_namespace *ns = mail_namespace_find(user->namespaces, vname);

	if (ns != inbox_ns) {
		/* e.g. "Public/Team" with a public namespace Public/: the
		   user's mail would go where others read it, and this user's
		   retention would purge what others keep there */
		if (!puser->move_box_refused) {
			e_error(puser->event, "on_retrieve = move %s: not a "
				"folder of the personal namespace (Dovecot finds "
				"it in namespace \"%s\"): nothing is moved or "
				"purged there",
				str_sanitize(puser->retention.retrieve_mailbox, 256),
				ns == NULL ? "" : str_sanitize(ns->prefix, 64));
		}
		puser->move_box_refused = TRUE;
		return NULL;
	}
	return mailbox_alloc(ns->list, vname, 0);
}

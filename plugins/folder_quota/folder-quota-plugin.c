/* folder-quota-plugin.c: registration of folder_quota and the per-user
 * state (see folder-quota-plugin.h for the design).
 *
 * A user gets folder roots when the quota plugin is active for them and
 * the policy has folder rules that apply to them; otherwise the plugin is
 * inert for the user, with one debug line. */

#include "lib.h"
#include "str.h"
#include "imap-utf7.h"
#include "mail-namespace.h"

#include "folder-quota-plugin.h"
#include "mp-dovecot.h"

MP_EXPORT const char *folder_quota_plugin_version = DOVECOT_ABI_VERSION;
MP_EXPORT const char *folder_quota_plugin_dependencies[] = { "quota", NULL };

MP_EXPORT void folder_quota_plugin_init(struct module *module);
MP_EXPORT void folder_quota_plugin_deinit(void);

struct fq_user_module fq_user_module =
	MODULE_CONTEXT_INIT(&mail_user_module_register);

const char *fq_root_name(const char *vname)
{
	string_t *str = t_str_new(64);

	str_append(str, FOLDER_QUOTA_ROOT_PREFIX);
	if (imap_utf8_to_utf7(vname, str) < 0) {
		/* not valid UTF-8: cannot happen for a vname, but keep it */
		str_truncate(str, strlen(FOLDER_QUOTA_ROOT_PREFIX));
		str_append(str, vname);
	}
	return str_c(str);
}

static void fq_user_deinit(struct mail_user *user)
{
	struct fq_user *fuser = FQ_USER_CONTEXT_REQUIRE(user);

	/* The quota plugin has deinitialized every root (ours too) by now:
	   it is loaded before us, so its deinit runs first. */
	fq_roots_user_deinit(fuser);
	fq_usage_cache_deinit(fuser);
	fq_rules_deinit(&fuser->rules);
	event_unref(&fuser->event);
	fuser->module_ctx.super.deinit(user);
}

static void fq_mail_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct quota_user *quser = QUOTA_USER_CONTEXT(user);
	struct fq_user *fuser;
	struct fq_rules *rules;
	int ret;

	if (user->autocreated) {
		/* the owner of a shared namespace: never governed */
		return;
	}
	if (quser == NULL || quser->quota == NULL) {
		e_debug(user->event, FOLDER_QUOTA_LOG_PREFIX
			"the quota plugin is not active for this user - "
			"plugin disabled");
		return;
	}
	if ((ret = fq_rules_init(user, &rules)) <= 0) {
		e_debug(user->event, FOLDER_QUOTA_LOG_PREFIX
			"%s - plugin disabled", ret == 0 ?
			"no folder rule applies to this user" :
			"no policy");
		return;
	}

	fuser = p_new(user->pool, struct fq_user, 1);
	fuser->user = user;
	fuser->quota = quser->quota;
	fuser->rules = rules;
	fuser->event = event_create(user->event);
	event_set_append_log_prefix(fuser->event, FOLDER_QUOTA_LOG_PREFIX);
	fuser->delivery = user->service != NULL &&
		(strcmp(user->service, "lmtp") == 0 ||
		 strcmp(user->service, "lda") == 0);
	fq_roots_user_init(fuser);

	fuser->module_ctx.super = *v;
	user->vlast = &fuser->module_ctx.super;
	v->deinit = fq_user_deinit;
	MODULE_CONTEXT_SET(user, fq_user_module, fuser);
}

static void fq_mail_namespaces_created(struct mail_namespace *namespaces)
{
	struct fq_user *fuser = FQ_USER_CONTEXT(namespaces->user);
	struct mail_namespace *ns;

	if (fuser == NULL)
		return;
	ns = mail_namespace_find_inbox(namespaces);
	if (ns == NULL || ns->type != MAIL_NAMESPACE_TYPE_PRIVATE ||
	    (ns->flags & NAMESPACE_FLAG_NOQUOTA) != 0) {
		e_debug(fuser->event, "no private inbox namespace - "
			"no folder is governed");
		return;
	}
	fuser->ns = ns;
	fuser->sep = mail_namespace_get_sep(ns);
	fq_expunge_user_init(fuser);
	fuser->ready = TRUE;
	fq_roots_scan(fuser);
}

static struct mail_storage_hooks fq_mail_storage_hooks = {
	.mail_user_created = fq_mail_user_created,
	.mail_namespaces_created = fq_mail_namespaces_created,
	.mailbox_allocated = fq_mailbox_allocated,
};

void folder_quota_plugin_init(struct module *module)
{
	mp_dovecot_init("folder_quota");
	quota_backend_register(&fq_backend);
	mail_storage_hooks_add(module, &fq_mail_storage_hooks);
	fq_imap_init(module);
}

void folder_quota_plugin_deinit(void)
{
	fq_imap_deinit();
	mail_storage_hooks_remove(&fq_mail_storage_hooks);
	quota_backend_unregister(&fq_backend);
	mp_dovecot_deinit();
}

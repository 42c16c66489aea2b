/* pop3-retention-login-plugin.c: RFC 2449's EXPIRE before login.
 *
 * A login plugin for pop3-login (login_plugins = pop3_retention_login,
 * login_plugin_dir = the directory with our modules): CAPA before login
 * gets "EXPIRE <days>|NEVER USER", the default block's keep_after_retrieval
 * with USER, since a user's own value may differ (after login the pop3
 * plugin advertises the user's).  Login processes have no mail storage,
 * so this is a .so of its own, next to lib20_pop3_retention_plugin.so.
 *
 * The policy is read once, at plugin init, before the login process
 * chroots and drops its privileges (pop3-login serves one connection per
 * process by default, so each connection sees the current file).  Dovecot
 * 2.4 names the file with mailpolicy_config; 2.3's login processes cannot
 * read plugin {} settings: there $MAILPOLICY_CONFIG (import_environment)
 * or the default path.  A policy that does not load, or has no
 * pop3_retention block: CAPA stays stock. */

#include "lib.h"
#include "str.h"
#include "module-dir.h"
#include "module-context.h"
#include "login-common.h"
#include "client-common.h"
#include "pop3-capability.h"
#include "mp-dovecot.h"
#include "mailpolicy/retention.h"

MP_EXPORT extern const char *pop3_retention_login_plugin_version;
MP_EXPORT void pop3_retention_login_plugin_init(struct module *module);
MP_EXPORT void pop3_retention_login_plugin_deinit(void);

const char *pop3_retention_login_plugin_version = DOVECOT_ABI_VERSION;

/* the start of pop3-login's CAPA reply; STLS, USER and SASL follow */
#define CAPA_PREFIX "+OK\r\n" POP3_CAPABILITY_REPLY
#define CAPA_END "\r\n.\r\n"

static MODULE_CONTEXT_DEFINE_INIT(pop3_retention_login_module,
				  &login_module_register);

/* "EXPIRE 30 USER\r\n", or NULL: CAPA stays stock */
static char *expire_line = NULL;

static void
pop3_retention_login_send_raw_data(struct client *client, const void *data,
				   size_t size)
{
	union login_client_module_context *ctx =
		MODULE_CONTEXT(client, pop3_retention_login_module);
	const size_t prefix_len = sizeof(CAPA_PREFIX) - 1;
	const size_t end_len = sizeof(CAPA_END) - 1;

	if (size >= prefix_len + end_len &&
	    memcmp(data, CAPA_PREFIX, prefix_len) == 0 &&
	    memcmp((const char *)data + size - end_len, CAPA_END, end_len) == 0) {
		/* the CAPA reply: our line before the final "." */
		string_t *str = t_str_new(size + 32);

		str_append_data(str, data, size - 3);
		str_append(str, expire_line);
		str_append(str, ".\r\n");
		ctx->super.send_raw_data(client, str_data(str), str_len(str));
		return;
	}
	ctx->super.send_raw_data(client, data, size);
}

static void pop3_retention_login_client_allocated(struct client *client)
{
	struct client_vfuncs *v = client->vlast;
	union login_client_module_context *ctx;

	ctx = p_new(client->pool, union login_client_module_context, 1);
	ctx->super = *v;
	client->vlast = &ctx->super;
	v->send_raw_data = pop3_retention_login_send_raw_data;
	MODULE_CONTEXT_SET_SELF(client, pop3_retention_login_module, ctx);
}

static const struct login_client_hooks pop3_retention_login_hooks = {
	.client_allocated = pop3_retention_login_client_allocated,
};

/* The EXPIRE line for the default block, or NULL. */
static char *pop3_retention_login_expire_line(void)
{
	const char *error, *path = mp_dovecot_config_path_process();
	struct mp_policy *policy;
	struct mp_retention retention;
	char days[32];
	char *line;

	policy = mp_dovecot_policy_get_path(path, &error);
	if (policy == NULL)
		return NULL;	/* logged */
	if (!mp_policy_has_retention(policy)) {
		mp_policy_unref(&policy);
		return NULL;
	}
	/* no default block: the built-in (never), as stock POP3 keeps mail */
	(void)mp_policy_retention(policy, NULL, &retention);
	line = i_strdup_printf("EXPIRE %s USER\r\n",
			       mp_retention_expire_capa(&retention, days,
							sizeof(days)));
	mp_policy_unref(&policy);
	return line;
}

void pop3_retention_login_plugin_init(struct module *module)
{
	mp_dovecot_init("pop3_retention_login");
	if (login_binary == NULL || strcmp(login_binary->protocol, "pop3") != 0)
		return;
	expire_line = pop3_retention_login_expire_line();
	if (expire_line != NULL)
		login_client_hooks_add(module, &pop3_retention_login_hooks);
}

void pop3_retention_login_plugin_deinit(void)
{
	if (expire_line != NULL)
		login_client_hooks_remove(&pop3_retention_login_hooks);
	i_free(expire_line);
	mp_dovecot_deinit();
}

/* pop3-retention-plugin.c: registration of the pop3_retention plugin.
 *
 * One .so for every process that loads it: pop3 (the retention itself)
 * and doveadm (`doveadm pop3-retention sweep|status`).  Which parts wake
 * up depends on the binary; see pop3-retention-private.h for the map. */

#include "lib.h"
#include "module-dir.h"
#include "mail-storage-hooks.h"
#include "pop3-retention-private.h"

MP_EXPORT extern const char *pop3_retention_plugin_version;
MP_EXPORT void pop3_retention_plugin_preinit(void);
MP_EXPORT void pop3_retention_plugin_init(struct module *module);
MP_EXPORT void pop3_retention_plugin_deinit(void);

const char *pop3_retention_plugin_version = DOVECOT_ABI_VERSION;

static struct mail_storage_hooks pop3_retention_mail_storage_hooks = {
	.mail_user_created = pop3_retention_mail_user_created,
	.mailbox_allocated = pop3_retention_mailbox_allocated,
	.mail_allocated = pop3_retention_mail_allocated,
};

/* doveadm looks its commands up before it calls init */
void pop3_retention_plugin_preinit(void)
{
	pop3_retention_doveadm_register();
}

void pop3_retention_plugin_init(struct module *module)
{
	mp_dovecot_init(POP3_RETENTION_NAME);
	mail_storage_hooks_add(module, &pop3_retention_mail_storage_hooks);
	pop3_retention_pop3_init();
}

void pop3_retention_plugin_deinit(void)
{
	pop3_retention_pop3_deinit();
	mail_storage_hooks_remove(&pop3_retention_mail_storage_hooks);
	mp_dovecot_deinit();
}

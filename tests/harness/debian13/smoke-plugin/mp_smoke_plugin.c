/* mp_smoke: the smallest Dovecot plugin. It proves that a plugin built inside
   the Debian 13 tree, against its Dovecot 2.4 headers, loads into that tree's
   Dovecot: on load it logs one line, "mp_smoke: loaded (ABI ...)". */
#include "lib.h"
#include "module-dir.h"

const char *mp_smoke_plugin_version = DOVECOT_ABI_VERSION;

void mp_smoke_plugin_init(struct module *module);
void mp_smoke_plugin_deinit(void);

void mp_smoke_plugin_init(struct module *module ATTR_UNUSED)
{
	i_info("mp_smoke: loaded (ABI %s)", DOVECOT_ABI_VERSION);
}

void mp_smoke_plugin_deinit(void)
{
}

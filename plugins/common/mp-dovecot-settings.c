/* mp-dovecot-settings.c: mailpolicy's own Dovecot 2.4 settings.
 *
 * Dovecot 2.4 refuses a setting nobody declares.  The config process
 * learns ours from the settings module (settings-module.c, installed in
 * MODULEDIR/settings/), the plugins read them with settings_get(); both
 * compile this one definition, so they agree on the names.  On 2.3 the
 * same setting is a plugin {} setting and this file compiles to nothing. */

#include "lib.h"
#include "mp-dovecot-private.h"

#if MP_DOVECOT_24
#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct mp_dovecot_settings)

static const struct setting_define mp_dovecot_setting_defines[] = {
	DEF(STR, mailpolicy_config),
	SETTING_DEFINE_LIST_END
};

static const struct mp_dovecot_settings mp_dovecot_default_settings = {
	.mailpolicy_config = MP_POLICY_DEFAULT_PATH,
};

const struct setting_parser_info mp_dovecot_setting_parser_info = {
	.name = "mailpolicy",
	.defines = mp_dovecot_setting_defines,
	.defaults = &mp_dovecot_default_settings,
	.struct_size = sizeof(struct mp_dovecot_settings),
	.pool_offset1 = 1 + offsetof(struct mp_dovecot_settings, pool),
};
#endif

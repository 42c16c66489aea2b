/* The Dovecot 2.4 settings module: libmailpolicy_settings.so, installed in
 * MODULEDIR/settings/ (/usr/lib/dovecot/modules/settings).  The config
 * process loads every module there and accepts the settings listed in
 * NAME_set_infos, so `mailpolicy_config = FILE` becomes a valid top-level
 * setting.  Nothing else: no code runs in the config process. */

#include "lib.h"
#include "mp-dovecot-private.h"

MP_EXPORT extern const char *mailpolicy_settings_version;
MP_EXPORT extern const struct setting_parser_info *mailpolicy_settings_set_infos[];

const char *mailpolicy_settings_version = DOVECOT_ABI_VERSION;
const struct setting_parser_info *mailpolicy_settings_set_infos[] = {
	&mp_dovecot_setting_parser_info,
	NULL
};

#ifndef MP_DOVECOT_PRIVATE_H
#define MP_DOVECOT_PRIVATE_H

/* Internal to plugins/common: what the glue's files share. */

#include "mp-dovecot.h"

/* Drops every cached policy (mp-dovecot-policy.c). */
void mp_dovecot_policy_cache_clear(void);

#if MP_DOVECOT_24
#include "settings-parser.h"

/* Our top-level settings on Dovecot 2.4 (mp-dovecot-settings.c): the
   config process learns them from the settings module, the plugins read
   them with settings_get(). */
struct mp_dovecot_settings {
	pool_t pool;
	const char *mailpolicy_config;
};
extern const struct setting_parser_info mp_dovecot_setting_parser_info;
#endif

#endif

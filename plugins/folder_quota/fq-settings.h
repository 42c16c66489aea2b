#ifndef FQ_SETTINGS_H
#define FQ_SETTINGS_H

/* fq-settings: LOCAL STAND-IN for the 2.4 settings module of the shared
 * Dovecot glue: declares mailpolicy_config so that Dovecot 2.4's config
 * process accepts it.  Built into the plugin and into
 * modules/settings/libfolder_quota_settings.so. */

#include "fq-compat.h"

#if FQ_DOVECOT24
#include "settings-parser.h"

struct fq_settings {
	pool_t pool;
	const char *mailpolicy_config;
};

extern const struct setting_parser_info fq_setting_parser_info;
#endif

#endif

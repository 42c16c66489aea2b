/* fq-settings.c: see fq-settings.h (Dovecot 2.4 only). */

#include "lib.h"
#include "fq-settings.h"

#if FQ_DOVECOT24
#include "mailpolicy/policy.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct fq_settings)
static const struct setting_define fq_setting_defines[] = {
	DEF(STR, mailpolicy_config),
	SETTING_DEFINE_LIST_END
};

static const struct fq_settings fq_default_settings = {
	.mailpolicy_config = MP_POLICY_DEFAULT_PATH,
};

const struct setting_parser_info fq_setting_parser_info = {
	.name = "folder_quota",
	.plugin_dependency = "lib20_folder_quota_plugin",
	.defines = fq_setting_defines,
	.defaults = &fq_default_settings,
	.struct_size = sizeof(struct fq_settings),
	.pool_offset1 = 1 + offsetof(struct fq_settings, pool),
};

/* The config process loads modules/settings/libfolder_quota_settings.so and
   looks up <module name>_set_infos. */
FQ_EXPORT extern const struct setting_parser_info *folder_quota_settings_set_infos[];
FQ_EXPORT const struct setting_parser_info *folder_quota_settings_set_infos[] = {
	&fq_setting_parser_info,
	NULL
};
#endif

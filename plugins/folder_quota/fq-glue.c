/* fq-glue.c: LOCAL STAND-IN for the shared Dovecot glue (see fq-glue.h).
 *
 * One policy per process, cached by path: re-loaded when the file
 * changed; a file that failed to load is remembered by its stat() state,
 * so the error is logged once, not per session. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-user.h"

#include "fq-compat.h"
#include "fq-glue.h"
#include "fq-settings.h"

#if FQ_DOVECOT24
#  include "settings.h"
#endif

#include <sys/stat.h>

struct fq_glue_cache {
	char *path;
	struct mp_policy *policy;
	/* stat() of the file the last failed load saw */
	bool failed;
	struct stat failed_st;
	int failed_errno;
};

static struct fq_glue_cache fq_cache;

static void *fq_env_alloc(void *ctx ATTR_UNUSED, size_t size)
{
	return i_malloc(size == 0 ? 1 : size);
}

static void *fq_env_realloc(void *ctx ATTR_UNUSED, void *ptr, size_t old_size,
			    size_t new_size)
{
	return i_realloc(ptr, old_size, new_size == 0 ? 1 : new_size);
}

static void fq_env_free(void *ctx ATTR_UNUSED, void *ptr)
{
	i_free(ptr);
}

static void fq_env_log(void *ctx ATTR_UNUSED, enum mp_log_level level,
		       const char *message)
{
	switch (level) {
	case MP_LOG_DEBUG:
		i_debug("folder_quota: %s", message);
		break;
	case MP_LOG_INFO:
		i_info("folder_quota: %s", message);
		break;
	case MP_LOG_WARNING:
		i_warning("folder_quota: %s", message);
		break;
	case MP_LOG_ERROR:
		i_error("folder_quota: %s", message);
		break;
	}
}

static const struct mp_env fq_env = {
	.alloc = fq_env_alloc,
	.realloc = fq_env_realloc,
	.free = fq_env_free,
	.log = fq_env_log,
};

const struct mp_env *fq_glue_env(void)
{
	return &fq_env;
}

static const char *fq_glue_config_path(struct mail_user *user)
{
#if FQ_DOVECOT24
	const struct fq_settings *set;
	const char *error, *path;

	if (settings_get(user->event, &fq_setting_parser_info, 0,
			 &set, &error) < 0) {
		e_error(user->event, "folder_quota: %s", error);
		return MP_POLICY_DEFAULT_PATH;
	}
	path = t_strdup(set->mailpolicy_config[0] == '\0' ?
			MP_POLICY_DEFAULT_PATH : set->mailpolicy_config);
	settings_free(set);
	return path;
#else
	const char *path = mail_user_plugin_getenv(user, "mailpolicy_config");

	return path == NULL || *path == '\0' ? MP_POLICY_DEFAULT_PATH : path;
#endif
}

static bool fq_glue_same_failed_state(const char *path)
{
	struct stat st;

	if (!fq_cache.failed)
		return FALSE;
	if (stat(path, &st) < 0)
		return fq_cache.failed_errno == errno;
	return fq_cache.failed_errno == 0 &&
		st.st_dev == fq_cache.failed_st.st_dev &&
		st.st_ino == fq_cache.failed_st.st_ino &&
		st.st_size == fq_cache.failed_st.st_size &&
		st.st_mtime == fq_cache.failed_st.st_mtime &&
		ST_MTIME_NSEC(st) == ST_MTIME_NSEC(fq_cache.failed_st);
}

int fq_glue_policy_get(struct mail_user *user, struct mp_policy **policy_r)
{
	const char *path = fq_glue_config_path(user);
	struct mp_policy *policy;
	struct mp_error error;

	*policy_r = NULL;
	if (fq_cache.path != NULL && strcmp(fq_cache.path, path) != 0) {
		mp_policy_unref(&fq_cache.policy);
		i_free(fq_cache.path);
		fq_cache.failed = FALSE;
	}
	if (fq_cache.policy != NULL && !mp_policy_is_stale(fq_cache.policy)) {
		*policy_r = mp_policy_ref(fq_cache.policy);
		return 1;
	}
	if (fq_cache.path != NULL && fq_glue_same_failed_state(path))
		return -1;

	if (fq_cache.path == NULL)
		fq_cache.path = i_strdup(path);
	if (mp_policy_load_file(&fq_env, path, &policy, &error) < 0) {
		/* Remember the state that failed: one log line per state. */
		fq_cache.failed = TRUE;
		fq_cache.failed_errno = 0;
		if (stat(path, &fq_cache.failed_st) < 0)
			fq_cache.failed_errno = errno;
		mp_policy_unref(&fq_cache.policy);
		e_error(user->event, "folder_quota: policy not loaded, "
			"folder limits are off: %s", error.text);
		return -1;
	}
	fq_cache.failed = FALSE;
	mp_policy_unref(&fq_cache.policy);
	fq_cache.policy = policy;
	*policy_r = mp_policy_ref(policy);
	return 1;
}

const char *fq_glue_user_setting(struct mail_user *user, const char *name)
{
#if FQ_DOVECOT24
	size_t len = strlen(name);
	unsigned int i;

	if (user->userdb_fields == NULL)
		return NULL;
	for (i = 0; user->userdb_fields[i] != NULL; i++) {
		const char *field = user->userdb_fields[i];

		if (strncmp(field, name, len) == 0 && field[len] == '=')
			return field + len + 1;
	}
	return NULL;
#else
	return mail_user_plugin_getenv(user, name);
#endif
}

void fq_glue_deinit(void)
{
	mp_policy_unref(&fq_cache.policy);
	i_free(fq_cache.path);
	fq_cache.failed = FALSE;
}

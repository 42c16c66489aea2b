/* mp-dovecot.c: the process env, events, and per-user settings of the
 * Dovecot glue (see mp-dovecot.h).  Dovecot 2.3 and 2.4 differ only in
 * where a user's settings live: 2.3 keeps plugin {} settings and userdb
 * extra fields together in plugin_envs, 2.4 has typed settings (ours are
 * declared by the settings module, mp-dovecot-settings.c) and the raw
 * userdb fields. */

#include "lib.h"
#include "array.h"
#include "master-service.h"
#include "mail-user.h"
#include "mp-dovecot.h"
#if MP_DOVECOT_24
#  include "settings.h"
#endif
#include "mp-dovecot-private.h"

#include <string.h>

static const char *mp_plugin_name = "mailpolicy";
static struct event *mp_event = NULL;
static struct mp_env mp_env;
static struct event_category mp_event_category = { .name = "mailpolicy" };

static void *mp_env_alloc(void *ctx ATTR_UNUSED, size_t size)
{
	return i_malloc(size);
}

static void *mp_env_realloc(void *ctx ATTR_UNUSED, void *ptr, size_t old_size,
			    size_t new_size)
{
	return i_realloc(ptr, old_size, new_size);
}

static void mp_env_free(void *ctx ATTR_UNUSED, void *ptr)
{
	i_free(ptr);
}

static void mp_env_log(void *ctx ATTR_UNUSED, enum mp_log_level level,
		       const char *message)
{
	struct event *event = mp_dovecot_event();

	switch (level) {
	case MP_LOG_DEBUG:
		e_debug(event, "%s", message);
		break;
	case MP_LOG_INFO:
		e_info(event, "%s", message);
		break;
	case MP_LOG_WARNING:
		e_warning(event, "%s", message);
		break;
	case MP_LOG_ERROR:
		e_error(event, "%s", message);
		break;
	}
}

void mp_dovecot_init(const char *plugin_name)
{
	mp_plugin_name = plugin_name;
	mp_env.alloc = mp_env_alloc;
	mp_env.realloc = mp_env_realloc;
	mp_env.free = mp_env_free;
	mp_env.log = mp_env_log;
	mp_env.ctx = NULL;
}

void mp_dovecot_deinit(void)
{
	mp_dovecot_policy_cache_clear();
	if (mp_event != NULL)
		event_unref(&mp_event);
}

const char *mp_dovecot_plugin_name(void)
{
	return mp_plugin_name;
}

struct event *mp_dovecot_event(void)
{
	/* made on first use: a process that exits through i_fatal() before
	   the plugin's deinit (a doveadm usage error) leaks nothing */
	if (mp_event == NULL) {
		mp_event = event_create(NULL);
		event_add_category(mp_event, &mp_event_category);
		event_set_append_log_prefix(mp_event, t_strconcat(
			mp_plugin_name, ": ", NULL));
	}
	return mp_event;
}

struct event *mp_dovecot_event_create(struct event *parent)
{
	struct event *event = event_create(parent);

	event_add_category(event, &mp_event_category);
	event_set_append_log_prefix(event,
				    t_strconcat(mp_plugin_name, ": ", NULL));
	return event;
}

const struct mp_env *mp_dovecot_env(void)
{
	i_assert(mp_env.alloc != NULL);
	return &mp_env;
}

bool mp_dovecot_binary_is(const char *name)
{
	return master_service != NULL &&
		strcmp(master_service_get_name(master_service), name) == 0;
}

/* value without leading and trailing blanks, from pool */
static const char *mp_trim(pool_t pool, const char *value)
{
	const char *end;

	while (*value == ' ' || *value == '\t')
		value++;
	end = value + strlen(value);
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return p_strndup(pool, value, end - value);
}

const char *mp_dovecot_config_path(struct mail_user *user)
{
	const char *path;
#if MP_DOVECOT_24
	const struct mp_dovecot_settings *set;
	const char *error;

	if (settings_get(user->event, &mp_dovecot_setting_parser_info, 0,
			 &set, &error) < 0) {
		e_error(user->event, "%s: %s", mp_plugin_name, error);
		return p_strdup(user->pool, MP_POLICY_DEFAULT_PATH);
	}
	path = p_strdup(user->pool, set->mailpolicy_config);
	settings_free(set);
#else
	path = mail_user_plugin_getenv(user, MP_DOVECOT_CONFIG_SETTING);
#endif
	if (path == NULL || *path == '\0')
		return p_strdup(user->pool, MP_POLICY_DEFAULT_PATH);
	return p_strdup(user->pool, path);
}

#if MP_DOVECOT_24
/* 2.4: userdb extra fields are "name=value" strings in user->userdb_fields
   (a passwd-file field userdb_NAME=... arrives as NAME=...). */
void mp_dovecot_user_fields(struct mail_user *user, const char *prefix,
			    void (*cb)(void *ctx, const char *name,
				       const char *value),
			    void *ctx)
{
	const char *const *field;
	size_t prefix_len = strlen(prefix);

	if (user->userdb_fields == NULL)
		return;
	for (field = user->userdb_fields; *field != NULL; field++) {
		const char *eq = strchr(*field, '=');

		if (eq == NULL || strncmp(*field, prefix, prefix_len) != 0 ||
		    (size_t)(eq - *field) < prefix_len)
			continue;
		cb(ctx, p_strndup(user->pool, *field, eq - *field),
		   mp_trim(user->pool, eq + 1));
	}
}
#else
/* 2.3: Dovecot merged the userdb extra fields that are not core settings
   into plugin_envs (key, value, key, value...), after the plugin {}
   block, so a later equal key is the userdb's and wins. */
void mp_dovecot_user_fields(struct mail_user *user, const char *prefix,
			    void (*cb)(void *ctx, const char *name,
				       const char *value),
			    void *ctx)
{
	const char *const *envs;
	unsigned int i, j, count;
	size_t prefix_len = strlen(prefix);

	if (!array_is_created(&user->set->plugin_envs))
		return;
	envs = array_get(&user->set->plugin_envs, &count);
	for (i = 0; i + 1 < count; i += 2) {
		if (strncmp(envs[i], prefix, prefix_len) != 0)
			continue;
		/* report each name once, with its winning value */
		for (j = i + 2; j + 1 < count; j += 2) {
			if (strcmp(envs[i], envs[j]) == 0)
				break;
		}
		if (j + 1 < count)
			continue;
		cb(ctx, p_strdup(user->pool, envs[i]),
		   mp_trim(user->pool, envs[i + 1]));
	}
}
#endif

struct mp_field_lookup {
	const char *name;
	const char *value;
};

static void mp_field_lookup_cb(void *ctx, const char *name, const char *value)
{
	struct mp_field_lookup *lookup = ctx;

	if (strcmp(name, lookup->name) == 0)
		lookup->value = value;
}

const char *mp_dovecot_user_field(struct mail_user *user, const char *name)
{
	struct mp_field_lookup lookup = { .name = name, .value = NULL };

	mp_dovecot_user_fields(user, name, mp_field_lookup_cb, &lookup);
	return lookup.value;
}

/* mp-dovecot.c: the process env and events of the Dovecot glue (see
 * mp-dovecot.h).  Only libdovecot symbols: a login plugin links this
 * without lib-storage (the glue is an archive; a plugin gets the objects
 * it uses). */

#include "lib.h"
#include "master-service.h"
#include "mp-dovecot.h"
#if MP_DOVECOT_24
#  include "settings.h"
#endif
#include "mp-dovecot-private.h"

#include <stdlib.h>

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

const char *mp_dovecot_config_path_process(void)
{
#if MP_DOVECOT_24
	const struct mp_dovecot_settings *set;
	const char *path, *error;

	if (settings_get(mp_dovecot_event(), &mp_dovecot_setting_parser_info,
			 0, &set, &error) < 0) {
		e_error(mp_dovecot_event(), "%s", error);
		return MP_POLICY_DEFAULT_PATH;
	}
	path = t_strdup(set->mailpolicy_config);
	settings_free(set);
	return *path == '\0' ? MP_POLICY_DEFAULT_PATH : path;
#else
	const char *path = getenv(MP_DOVECOT_CONFIG_ENV);

	return path == NULL || *path == '\0' ? MP_POLICY_DEFAULT_PATH : path;
#endif
}

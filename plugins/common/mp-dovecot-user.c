/* mp-dovecot-user.c: a user's settings in the Dovecot glue (see
 * mp-dovecot.h): mailpolicy_config, the override fields, the user's
 * policy.  Dovecot 2.3 and 2.4 differ in where they live: 2.3 keeps
 * plugin {} settings and userdb extra fields together in plugin_envs, 2.4
 * has typed settings (ours are declared by the settings module,
 * mp-dovecot-settings.c) and the raw userdb fields. */

#include "lib.h"
#include "array.h"
#include "str-sanitize.h"
#include "mail-user.h"
#include "mp-dovecot.h"
#if MP_DOVECOT_24
#  include "settings.h"
#endif
#include "mp-dovecot-private.h"

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
		/* not the default file: which file was meant is unknown */
		e_error(user->event, "%s: %s", mp_dovecot_plugin_name(), error);
		return "";
	}
	path = p_strdup(user->pool, set->mailpolicy_config);
	settings_free(set);
#else
	path = mail_user_plugin_getenv(user, MP_DOVECOT_CONFIG_SETTING);
#endif
	/* Unset is the default file (2.4 declares it as the default value);
	   set but empty (an expansion of a missing userdb field) names no
	   file, which is no policy, not the default one. */
	if (path == NULL)
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

struct mp_policy *mp_dovecot_policy_get(struct mail_user *user,
					const char **error_r)
{
	return mp_dovecot_policy_get_path(mp_dovecot_config_path(user), error_r);
}

struct mp_user_policy_feed {
	struct mp_user_policy *up;
	struct event *event;
};

static void mp_user_policy_feed_cb(void *context, const char *name,
				   const char *value)
{
	struct mp_user_policy_feed *feed = context;
	const char *error;

	if (mp_user_policy_set_field(feed->up, name, value, &error) < 0) {
		/* the value is the userdb's (a panel's, a user's): no CR/LF
		   or other control bytes into the log, and not all of it */
		e_warning(feed->event, "Ignoring the userdb field %s=%s (the "
			  "policy file's value stands): %s",
			  str_sanitize(name, 128), str_sanitize(value, 256),
			  str_sanitize(error, 256));
	}
}

struct mp_user_policy *
mp_dovecot_user_policy(struct mail_user *user, const char *field_prefix,
		       struct event *event, const char **error_r)
{
	struct mp_user_policy_feed feed = { .event = event };
	struct mp_policy *policy;

	policy = mp_dovecot_policy_get(user, error_r);
	if (policy == NULL)
		return NULL;
	if (mp_user_policy_new(mp_dovecot_env(), policy, user->username,
			       &feed.up) < 0)
		i_fatal_status(FATAL_OUTOFMEM, "mp_user_policy_new() failed");
	mp_policy_unref(&policy);
	mp_dovecot_user_fields(user, field_prefix, mp_user_policy_feed_cb, &feed);
	return feed.up;
}


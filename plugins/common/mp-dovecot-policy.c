/* mp-dovecot-policy.c: the per-process policy of the Dovecot glue.
 *
 * A Dovecot mail process serves one user or many (service_count), each
 * session asks for the policy once.  The core's holder (policy.h) keeps
 * the compiled policy of a path, re-reads it only when the file (or a
 * file it includes) changed, and remembers a broken state so that it is
 * read and logged once, not once per session.  Mode
 * MP_HOLDER_NONE_ON_ERROR: a broken or unreadable file means no policy,
 * never a stale one, and the plugins go inert (DESIGN.md, "fail safe").
 * One holder per path (normally one path per process). */

#include "lib.h"
#include "array.h"
#include "mp-dovecot-private.h"

static ARRAY(struct mp_policy_holder *) mp_holders = ARRAY_INIT;

static struct mp_policy_holder *mp_holder_get(const char *path,
					      const char **error_r)
{
	static char error_text[MP_ERROR_MAX];
	struct mp_policy_holder *holder, *const *holderp;
	struct mp_error error;

	if (!array_is_created(&mp_holders))
		i_array_init(&mp_holders, 2);
	array_foreach(&mp_holders, holderp) {
		if (strcmp(mp_policy_holder_path(*holderp), path) == 0)
			return *holderp;
	}
	if (path[0] == '\0') {
		i_snprintf(error_text, sizeof(error_text), "%s is empty",
			   MP_DOVECOT_CONFIG_SETTING);
		*error_r = error_text;
		return NULL;
	}
	if (path[0] != '/') {
		/* the holder would resolve it against whatever directory
		   this process happens to be in */
		i_snprintf(error_text, sizeof(error_text),
			   "%s = %s: not an absolute path",
			   MP_DOVECOT_CONFIG_SETTING, path);
		*error_r = error_text;
		return NULL;
	}
	if (mp_policy_holder_new(mp_dovecot_env(), path,
				 MP_HOLDER_NONE_ON_ERROR, &holder, &error) < 0) {
		i_strocpy(error_text, error.text, sizeof(error_text));
		*error_r = error_text;
		return NULL;
	}
	array_push_back(&mp_holders, &holder);
	return holder;
}

struct mp_policy *mp_dovecot_policy_get_path(const char *path,
					     const char **error_r)
{
	static char error_text[MP_ERROR_MAX];
	struct mp_policy_holder *holder;
	struct mp_policy *policy;
	struct mp_error perror;
	const char *error;

	if (error_r == NULL)
		error_r = &error;
	holder = mp_holder_get(path, error_r);
	if (holder == NULL) {
		e_error(mp_dovecot_event(), "Cannot load the policy, nothing "
			"will be enforced: %s", *error_r);
		return NULL;
	}
	switch (mp_policy_holder_get(holder, &policy, &perror)) {
	case MP_HOLDER_CURRENT:
		break;
	case MP_HOLDER_LOADED:
		e_debug(mp_dovecot_event(), "Loaded the policy %s", path);
		break;
	case MP_HOLDER_FAILED:
		i_strocpy(error_text, perror.text, sizeof(error_text));
		*error_r = error_text;
		e_error(mp_dovecot_event(), "Cannot load the policy, nothing "
			"will be enforced until it is fixed: %s", error_text);
		return NULL;
	case MP_HOLDER_FAILED_KNOWN:
		i_strocpy(error_text, perror.text, sizeof(error_text));
		*error_r = error_text;
		return NULL;
	}
	if (policy == NULL) {
		*error_r = "no policy";
		return NULL;
	}
	return policy;
}

void mp_dovecot_policy_cache_clear(void)
{
	struct mp_policy_holder **holderp;

	if (!array_is_created(&mp_holders))
		return;
	array_foreach_modifiable(&mp_holders, holderp)
		mp_policy_holder_free(holderp);
	array_free(&mp_holders);
}

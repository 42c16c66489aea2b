/* mp-dovecot-policy.c: the per-process policy cache of the Dovecot glue.
 *
 * A Dovecot mail process serves one user or many (service_count), each
 * session asks for the policy once.  The cache keeps the compiled policy
 * of each path (normally one) and re-reads it only when the file changed;
 * a file that failed to load is remembered with its state (inode, size,
 * mtime, ctime) and not read again, nor its error logged again, until it
 * changes.  Dovecot's plugins never use a stale policy: a broken or
 * unreadable file makes them inert (DESIGN.md, "fail safe"). */

#include "lib.h"
#include "array.h"
#include "mail-user.h"
#include "mp-dovecot-private.h"

#include <sys/stat.h>

struct mp_policy_cache_entry {
	char *path;
	struct mp_policy *policy;	/* NULL: the last load failed */
	/* the file as it was when the load failed */
	bool failed_stat_ok;
	struct stat failed_st;
	char error[MP_ERROR_MAX];
};

static ARRAY(struct mp_policy_cache_entry) mp_policy_cache = ARRAY_INIT;

static bool mp_same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
		a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
		a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static struct mp_policy_cache_entry *mp_policy_cache_find(const char *path)
{
	struct mp_policy_cache_entry *entry;

	if (!array_is_created(&mp_policy_cache))
		i_array_init(&mp_policy_cache, 2);
	array_foreach_modifiable(&mp_policy_cache, entry) {
		if (strcmp(entry->path, path) == 0)
			return entry;
	}
	entry = array_append_space(&mp_policy_cache);
	entry->path = i_strdup(path);
	return entry;
}

/* Whether the failed state recorded in entry still describes the file:
   the same bytes would fail the same way. */
static bool mp_policy_failure_known(const struct mp_policy_cache_entry *entry)
{
	struct stat st;

	if (entry->error[0] == '\0')
		return FALSE;
	if (stat(entry->path, &st) < 0)
		return !entry->failed_stat_ok;
	return entry->failed_stat_ok && mp_same_file_state(&st, &entry->failed_st);
}

static struct mp_policy *
mp_policy_cache_get(const char *path, const char **error_r)
{
	struct mp_policy_cache_entry *entry;
	struct mp_policy *policy;
	struct mp_error error;
	struct stat st;

	entry = mp_policy_cache_find(path);
	if (entry->policy != NULL && !mp_policy_is_stale(entry->policy))
		return mp_policy_ref(entry->policy);
	if (entry->policy == NULL && mp_policy_failure_known(entry)) {
		*error_r = entry->error;
		return NULL;
	}

	/* stat before reading: a change during the read makes the next
	   call try again rather than trust a state we did not load */
	entry->failed_stat_ok = stat(path, &st) == 0;
	if (entry->failed_stat_ok)
		entry->failed_st = st;
	if (path[0] != '/') {
		i_snprintf(entry->error, sizeof(entry->error),
			   "%s: %s is not an absolute path",
			   MP_DOVECOT_CONFIG_SETTING, path);
		policy = NULL;
	} else if (mp_policy_load_file(mp_dovecot_env(), path, &policy,
				       &error) < 0) {
		i_assert(error.text[0] != '\0');
		i_strocpy(entry->error, error.text, sizeof(entry->error));
		policy = NULL;
	}
	if (policy == NULL) {
		if (entry->policy != NULL)
			mp_policy_unref(&entry->policy);
		e_error(mp_dovecot_event(),
			"Cannot load the policy, nothing will be enforced "
			"until it is fixed: %s", entry->error);
		*error_r = entry->error;
		return NULL;
	}
	if (entry->policy != NULL)
		mp_policy_unref(&entry->policy);
	entry->policy = policy;
	entry->error[0] = '\0';
	e_debug(mp_dovecot_event(), "Loaded the policy %s", path);
	return mp_policy_ref(policy);
}

struct mp_policy *mp_dovecot_policy_get(struct mail_user *user,
					const char **error_r)
{
	const char *error, *path = mp_dovecot_config_path(user);

	return mp_policy_cache_get(path, error_r != NULL ? error_r : &error);
}

void mp_dovecot_policy_cache_clear(void)
{
	struct mp_policy_cache_entry *entry;

	if (!array_is_created(&mp_policy_cache))
		return;
	array_foreach_modifiable(&mp_policy_cache, entry) {
		if (entry->policy != NULL)
			mp_policy_unref(&entry->policy);
		i_free(entry->path);
	}
	array_free(&mp_policy_cache);
}

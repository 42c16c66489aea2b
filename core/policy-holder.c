/* policy-holder.c: a process's current policy for one path.
 *
 * Two locks: `lock` guards the pointer to the current policy and is held
 * only to read or swap it and take a reference, so a reader can never
 * get a pointer another thread is about to free; `load_lock` serializes
 * the staleness checks and loads, and guards what the last attempt
 * left behind (the failed state and its error).  A thread never holds
 * `lock` while it waits for `load_lock`.
 *
 * "One attempt per file state": a failed load keeps the records of the
 * files it read (policy-files.c: identity or errno of each), and the
 * next get() only re-stats them; until one of them changes, the answer
 * is MP_HOLDER_FAILED_KNOWN with the remembered error, without reading
 * or parsing. */

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "policy-private.h"

struct mp_policy_holder {
	const struct mp_env *env;
	char *path;			/* absolute */
	enum mp_holder_mode mode;

	pthread_mutex_t lock;		/* guards current */
	struct mp_policy *current;

	pthread_mutex_t load_lock;	/* guards the rest */
	bool attempted;			/* a load was tried */
	bool failed;			/* ... and the last one failed */
	struct policy_files failed_files;
	struct mp_error failure;
};

static void error_set(struct mp_error *error_r, const struct mp_error *error)
{
	if (error_r != NULL)
		*error_r = *error;
}

int mp_policy_holder_new(const struct mp_env *env, const char *path,
			 enum mp_holder_mode mode,
			 struct mp_policy_holder **holder_r,
			 struct mp_error *error_r)
{
	struct policy_errctx ctx;
	struct mp_policy_holder *holder;
	struct mp_error dummy;

	env = mp_env_or_default(env);
	if (error_r == NULL)
		error_r = &dummy;
	memset(error_r, 0, sizeof(*error_r));
	ctx.name = path;
	ctx.error = error_r;
	*holder_r = NULL;
	holder = env->alloc(env->ctx, sizeof(*holder));
	if (holder == NULL)
		return policy_error_oom(&ctx);
	holder->env = env;
	holder->mode = mode;
	holder->path = policy_absolute_path_dup(env, path);
	if (holder->path == NULL) {
		int saved = errno;

		env->free(env->ctx, holder);
		if (saved == ENOMEM)
			return policy_error_oom(&ctx);
		return policy_error_file(&ctx, "cannot find the current "
					 "directory: %s", strerror(saved));
	}
	policy_files_init(&holder->failed_files, env);
	pthread_mutex_init(&holder->lock, NULL);
	pthread_mutex_init(&holder->load_lock, NULL);
	*holder_r = holder;
	return 0;
}

void mp_policy_holder_free(struct mp_policy_holder **holder)
{
	struct mp_policy_holder *h = *holder;
	const struct mp_env *env;

	if (h == NULL)
		return;
	*holder = NULL;
	env = h->env;
	mp_policy_unref(&h->current);
	policy_files_free(&h->failed_files);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->load_lock);
	env->free(env->ctx, h->path);
	env->free(env->ctx, h);
}

const char *mp_policy_holder_path(const struct mp_policy_holder *holder)
{
	return holder->path;
}

struct mp_policy *mp_policy_holder_current(struct mp_policy_holder *holder)
{
	struct mp_policy *policy;

	pthread_mutex_lock(&holder->lock);
	policy = holder->current;
	if (policy != NULL)
		mp_policy_ref(policy);
	pthread_mutex_unlock(&holder->lock);
	return policy;
}

/* Swaps new_policy (a reference, or NULL) in; the old one's reference is
   dropped outside the lock, since freeing a policy takes a while. */
static void holder_swap(struct mp_policy_holder *holder,
			struct mp_policy *new_policy)
{
	struct mp_policy *old;

	pthread_mutex_lock(&holder->lock);
	old = holder->current;
	holder->current = new_policy;
	pthread_mutex_unlock(&holder->lock);
	mp_policy_unref(&old);
}

/* One load attempt, with load_lock held.  Returns 0 when the new policy
   is held, -1 when it failed (remembered). */
static int holder_load(struct mp_policy_holder *holder)
{
	struct policy_files files;
	struct mp_policy *policy;
	int ret;

	policy_files_init(&files, holder->env);
	memset(&holder->failure, 0, sizeof(holder->failure));
	ret = policy_load_path(holder->env, holder->path, holder->path,
			       &files, &policy, &holder->failure);
	holder->attempted = true;
	policy_files_free(&holder->failed_files);
	if (ret < 0) {
		policy_files_move(&holder->failed_files, &files);
		holder->failed = true;
		if (holder->mode == MP_HOLDER_NONE_ON_ERROR)
			holder_swap(holder, NULL);
		return -1;
	}
	holder->failed = false;
	holder_swap(holder, policy);
	return 0;
}

enum mp_holder_status
mp_policy_holder_get(struct mp_policy_holder *holder,
		     struct mp_policy **policy_r, struct mp_error *error_r)
{
	enum mp_holder_status status;
	struct mp_policy *current;
	bool changed;

	pthread_mutex_lock(&holder->load_lock);
	if (!holder->attempted)
		changed = true;
	else if (holder->failed)
		changed = policy_files_changed(holder->failed_files.items,
					       holder->failed_files.count);
	else {
		/* Only load_lock's holder swaps: no ref needed to look. */
		current = holder->current;
		changed = current == NULL || mp_policy_is_stale(current);
	}
	if (changed) {
		status = holder_load(holder) == 0 ? MP_HOLDER_LOADED :
			MP_HOLDER_FAILED;
	} else {
		status = holder->failed ? MP_HOLDER_FAILED_KNOWN :
			MP_HOLDER_CURRENT;
	}
	if (status == MP_HOLDER_FAILED || status == MP_HOLDER_FAILED_KNOWN)
		error_set(error_r, &holder->failure);
	*policy_r = mp_policy_holder_current(holder);
	pthread_mutex_unlock(&holder->load_lock);
	return status;
}

int mp_policy_holder_reload(struct mp_policy_holder *holder,
			    struct mp_error *error_r)
{
	int ret;

	pthread_mutex_lock(&holder->load_lock);
	ret = holder_load(holder);
	if (ret < 0)
		error_set(error_r, &holder->failure);
	pthread_mutex_unlock(&holder->load_lock);
	return ret;
}

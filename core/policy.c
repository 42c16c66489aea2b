/* policy.c: loading a policy file whole or not at all, and its life
 * afterwards (references, staleness, what it configures).
 *
 * A load reads the file into memory (at most MP_POLICY_MAX_FILE_SIZE),
 * runs lexer -> parser -> builder -> compiler over it, and either
 * returns the compiled policy or frees everything it made and returns
 * the first error.  The file's identity (device, inode, size, mtime to
 * the nanosecond) is taken from the descriptor that was read, so
 * mp_policy_is_stale() compares against what was actually loaded. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-private.h"

static void policy_free(struct mp_policy *policy)
{
	const struct mp_env *env = policy->env;
	struct policy_pattern *pattern;

	for (pattern = policy->pattern_list; pattern != NULL;
	     pattern = pattern->next)
		mp_wildcard_free(env, &pattern->wildcard);
	policy_arena_free(&policy->arena);
	env->free(env->ctx, policy);
}

static struct mp_policy *policy_new(const struct mp_env *env, const char *name)
{
	struct mp_policy *policy;

	policy = env->alloc(env->ctx, sizeof(*policy));
	if (policy == NULL)
		return NULL;
	policy->refcount = 1;
	policy->env = env;
	policy_arena_init(&policy->arena, env);
	policy->name = policy_arena_strndup(&policy->arena, name, strlen(name));
	if (policy->name == NULL) {
		policy_free(policy);
		return NULL;
	}
	mp_siphash_key_init(policy->hash_key);
	policy->default_scope.kind = MP_ORIGIN_DEFAULT;
	policy->default_scope.rules_tail = &policy->default_scope.rules;
	policy->domain_tail = &policy->domain_list;
	policy->user_tail = &policy->user_list;
	policy_milter_builtin(&policy->milter);
	return policy;
}

static int policy_load(const struct mp_env *env, const char *name,
		       const char *data, size_t size, const struct stat *st,
		       struct mp_policy **policy_r, struct mp_error *error_r)
{
	struct policy_errctx ctx = { .name = name, .error = error_r };
	struct policy_lexer *lexer = NULL;
	struct policy_build *build = NULL;
	struct mp_policy *policy;
	int ret = -1;

	*policy_r = NULL;
	if (size > MP_POLICY_MAX_FILE_SIZE) {
		return policy_error_file(&ctx, "file too large (limit %u bytes)",
					 MP_POLICY_MAX_FILE_SIZE);
	}
	policy = policy_new(env, name);
	if (policy == NULL)
		return policy_error_oom(&ctx);
	if (st != NULL) {
		policy->from_file = true;
		policy->dev = st->st_dev;
		policy->ino = st->st_ino;
		policy->size = st->st_size;
		policy->mtime = st->st_mtim;
	}
	lexer = policy_lexer_new(env, &ctx, data, size);
	if (lexer != NULL)
		build = policy_build_new(policy, &ctx);
	if (build != NULL)
		ret = policy_parse(lexer, build, &ctx);
	policy_build_free(&build);
	policy_lexer_free(env, &lexer);
	if (ret < 0) {
		policy_free(policy);
		return -1;
	}
	*policy_r = policy;
	return 0;
}

int mp_policy_load_string(const struct mp_env *env, const char *name,
			  const char *data, size_t size,
			  struct mp_policy **policy_r, struct mp_error *error_r)
{
	struct mp_error dummy;

	if (error_r == NULL)
		error_r = &dummy;
	memset(error_r, 0, sizeof(*error_r));
	return policy_load(mp_env_or_default(env),
			   name != NULL ? name : "(string)", data, size, NULL,
			   policy_r, error_r);
}

static int read_all(int fd, char *buf, size_t size, size_t *read_r)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = read(fd, buf + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*read_r = done;
	return 0;
}

int mp_policy_load_file(const struct mp_env *env, const char *path,
			struct mp_policy **policy_r, struct mp_error *error_r)
{
	struct policy_errctx ctx;
	struct mp_error dummy;
	struct stat st;
	char *buf = NULL;
	size_t alloc_size, size;
	int fd, ret;

	env = mp_env_or_default(env);
	if (error_r == NULL)
		error_r = &dummy;
	memset(error_r, 0, sizeof(*error_r));
	ctx.name = path;
	ctx.error = error_r;
	*policy_r = NULL;

	/* O_NONBLOCK: a FIFO in its place must not hang a reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return policy_error_file(&ctx, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = policy_error_file(&ctx, "cannot stat: %s", strerror(errno));
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return policy_error_file(&ctx, "not a regular file");
	}
	if (st.st_size > (off_t)MP_POLICY_MAX_FILE_SIZE) {
		close(fd);
		return policy_error_file(&ctx, "file too large (limit %u bytes)",
					 MP_POLICY_MAX_FILE_SIZE);
	}
	/* One byte more than stat said, to see a file that grew. */
	alloc_size = (size_t)st.st_size + 1;
	buf = env->alloc(env->ctx, alloc_size);
	if (buf == NULL) {
		close(fd);
		return policy_error_oom(&ctx);
	}
	if (read_all(fd, buf, alloc_size, &size) < 0) {
		ret = policy_error_file(&ctx, "cannot read: %s", strerror(errno));
		env->free(env->ctx, buf);
		close(fd);
		return ret;
	}
	close(fd);
	if (size != (size_t)st.st_size) {
		env->free(env->ctx, buf);
		return policy_error_file(&ctx, "changed while being read "
					 "(try again)");
	}
	ret = policy_load(env, path, buf, size, &st, policy_r, error_r);
	env->free(env->ctx, buf);
	return ret;
}

struct mp_policy *mp_policy_ref(struct mp_policy *policy)
{
	__atomic_add_fetch(&policy->refcount, 1, __ATOMIC_RELAXED);
	return policy;
}

void mp_policy_unref(struct mp_policy **policy)
{
	struct mp_policy *p = *policy;

	if (p == NULL)
		return;
	*policy = NULL;
	/* acq_rel: the last owner sees every other owner's reads done. */
	if (__atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		policy_free(p);
}

const char *mp_policy_name(const struct mp_policy *policy)
{
	return policy->name;
}

bool mp_policy_is_stale(const struct mp_policy *policy)
{
	struct stat st;

	if (!policy->from_file)
		return false;
	if (stat(policy->name, &st) < 0)
		return true;
	return st.st_dev != policy->dev || st.st_ino != policy->ino ||
		st.st_size != policy->size ||
		st.st_mtim.tv_sec != policy->mtime.tv_sec ||
		st.st_mtim.tv_nsec != policy->mtime.tv_nsec;
}

bool mp_policy_has_retention(const struct mp_policy *policy)
{
	return policy->has_retention;
}

bool mp_policy_has_folder_quota(const struct mp_policy *policy)
{
	return policy->has_folder_quota;
}

bool mp_policy_has_listeners(const struct mp_policy *policy)
{
	return policy->has_listeners;
}

bool mp_policy_has_milter(const struct mp_policy *policy)
{
	return policy->has_milter;
}

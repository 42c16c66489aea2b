/* policy.c: loading a policy file whole or not at all, and its life
 * afterwards (references, staleness, what it configures).
 *
 * A load reads the file into memory (at most MP_POLICY_MAX_FILE_SIZE),
 * runs lexer -> parser -> builder -> compiler over it, and either
 * returns the compiled policy or frees everything it made and returns
 * the first error.  Every file the load reads (the policy file, and
 * files it includes) is recorded as it was read (policy-files.c), so
 * mp_policy_is_stale() compares against what was actually loaded. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-private.h"

static void policy_free(struct mp_policy *policy)
{
	const struct mp_env *env = policy->env;
	struct policy_pattern *pattern;

	for (pattern = policy->pattern_list; pattern != NULL;
	     pattern = pattern->next)
		mp_wildcard_free(env, &pattern->wildcard);
	policy_files_free(&policy->files);
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
	policy_files_init(&policy->files, env);
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

/* Compiles data[0..size).  files holds the files read so far (the
   policy file itself); the policy takes them over, and on failure they
   go back to the caller, with whatever the load read, in *files. */
static int policy_load(const struct mp_env *env, const char *name,
		       const char *path, const char *data, size_t size,
		       struct policy_files *files,
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
	policy_files_move(&policy->files, files);
	if (path != NULL) {
		/* the directory of an absolute path: up to its last '/' */
		size_t dir_len = (size_t)(strrchr(path, '/') - path);

		policy->dir = policy_arena_strndup(&policy->arena, path,
						   dir_len);
		if (policy->dir == NULL) {
			policy_files_move(files, &policy->files);
			policy_free(policy);
			return policy_error_oom(&ctx);
		}
	}
	lexer = policy_lexer_new(env, &ctx, data, size);
	if (lexer != NULL)
		build = policy_build_new(policy, &ctx);
	if (build != NULL)
		ret = policy_parse(lexer, build, &ctx);
	policy_build_free(&build);
	policy_lexer_free(env, &lexer);
	if (ret < 0) {
		policy_files_move(files, &policy->files);
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
	struct policy_files files;
	struct mp_error dummy;
	int ret;

	env = mp_env_or_default(env);
	if (error_r == NULL)
		error_r = &dummy;
	memset(error_r, 0, sizeof(*error_r));
	policy_files_init(&files, env);
	ret = policy_load(env, name != NULL ? name : "(string)", NULL, data,
			  size, &files, policy_r, error_r);
	policy_files_free(&files);
	return ret;
}

int policy_load_path(const struct mp_env *env, const char *path,
		     const char *name, struct policy_files *files,
		     struct mp_policy **policy_r, struct mp_error *error_r)
{
	struct policy_errctx ctx = { .name = name, .error = error_r };
	char *buf;
	size_t size;
	int ret;

	*policy_r = NULL;
	if (policy_read_file(env, &ctx, path, MP_POLICY_MAX_FILE_SIZE, files,
			     &buf, &size) < 0)
		return -1;
	ret = policy_load(env, name, path, buf, size, files, policy_r,
			  error_r);
	env->free(env->ctx, buf);
	return ret;
}

int mp_policy_load_file(const struct mp_env *env, const char *path,
			struct mp_policy **policy_r, struct mp_error *error_r)
{
	struct policy_errctx ctx;
	struct policy_files files;
	struct mp_error dummy;
	char *abs_path;
	int ret;

	env = mp_env_or_default(env);
	if (error_r == NULL)
		error_r = &dummy;
	memset(error_r, 0, sizeof(*error_r));
	ctx.name = path;
	ctx.error = error_r;
	*policy_r = NULL;

	abs_path = policy_absolute_path_dup(env, path);
	if (abs_path == NULL) {
		if (errno == ENOMEM)
			return policy_error_oom(&ctx);
		return policy_error_file(&ctx, "cannot find the current "
					 "directory: %s", strerror(errno));
	}
	policy_files_init(&files, env);
	ret = policy_load_path(env, abs_path, path, &files, policy_r, error_r);
	policy_files_free(&files);
	env->free(env->ctx, abs_path);
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
	return policy_files_changed(policy->files.items, policy->files.count);
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

const char *policy_include_path(struct mp_policy *policy,
				struct policy_errctx *ctx,
				const struct policy_token *key,
				const struct policy_token *word,
				const char *path, size_t len)
{
	const char *dir = policy->dir;
	char *cwd = NULL, *copy;
	size_t dir_len;

	if (len == 0) {
		policy_word_error(ctx, key, word, "empty path");
		return NULL;
	}
	if (path[0] == '/') {
		copy = policy_arena_strndup(&policy->arena, path, len);
		if (copy == NULL)
			policy_error_oom(ctx);
		return copy;
	}
	if (dir == NULL) {
		cwd = getcwd(NULL, 0);
		if (cwd == NULL) {
			policy_word_error(ctx, key, word, "a relative path, "
					  "but the current directory is "
					  "unknown");
			return NULL;
		}
		dir = cwd;
	}
	dir_len = strlen(dir);
	copy = policy_arena_alloc(&policy->arena, dir_len + 1 + len + 1);
	if (copy == NULL) {
		free(cwd);
		policy_error_oom(ctx);
		return NULL;
	}
	memcpy(copy, dir, dir_len);
	copy[dir_len] = '/';
	memcpy(copy + dir_len + 1, path, len);
	free(cwd);
	return copy;
}

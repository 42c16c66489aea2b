/* policy-files.c: reading a file of the policy whole, and remembering
 * what every file looked like when it was read.
 *
 * A policy is read from its file and from the files it includes
 * (sender_map, list files).  Each is read through one descriptor whose
 * fstat() identity (device, inode, size, mtime and ctime to the
 * nanosecond) is recorded, so staleness compares against what was
 * actually read, not what the path named a moment later.  A file that
 * cannot be opened is recorded too, with stat()'s identity or errno:
 * that is how the holder knows a broken state has not changed (mode,
 * owner and ctime are in the identity so that a chmod or chown fixing
 * "Permission denied" counts as a change, though it leaves mtime
 * alone; the mode and owner are compared too because ctime may not
 * move on a file system with coarse timestamps). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-private.h"

void policy_files_init(struct policy_files *files, const struct mp_env *env)
{
	memset(files, 0, sizeof(*files));
	files->env = env;
}

void policy_files_free(struct policy_files *files)
{
	const struct mp_env *env = files->env;

	if (env == NULL)
		return;
	env->free(env->ctx, files->items);
	env->free(env->ctx, files->paths);
	policy_files_init(files, env);
}

void policy_files_move(struct policy_files *to, struct policy_files *from)
{
	*to = *from;
	policy_files_init(from, from->env);
}

/* Grows *buf (cap elements of size) to hold need; 0 or -1. */
static int grow(const struct mp_env *env, void **buf, size_t *cap,
		size_t need, size_t size)
{
	size_t new_cap = *cap == 0 ? 8 : *cap;
	void *p;

	if (need <= *cap)
		return 0;
	while (new_cap < need) {
		if (new_cap > SIZE_MAX / 2 / size)
			return -1;
		new_cap *= 2;
	}
	p = env->realloc(env->ctx, *buf, *cap * size, new_cap * size);
	if (p == NULL)
		return -1;
	*buf = p;
	*cap = new_cap;
	return 0;
}

/* Records path (absolute) with the identity in *st, or with error when
   st is NULL.  Returns 0, or -1 when out of memory. */
static int policy_files_add(struct policy_files *files, const char *path,
			    const struct stat *st, int error)
{
	const struct mp_env *env = files->env;
	struct policy_file_state *state;
	size_t len = strlen(path) + 1, i;
	char *old_paths = files->paths;

	if (grow(env, (void **)&files->items, &files->cap, files->count + 1,
		 sizeof(*files->items)) < 0 ||
	    grow(env, (void **)&files->paths, &files->paths_cap,
		 files->paths_used + len, 1) < 0)
		return -1;
	if (files->paths != old_paths) {
		/* the path copies moved: re-point the records */
		size_t offset = 0;

		for (i = 0; i < files->count; i++) {
			files->items[i].path = files->paths + offset;
			offset += strlen(files->paths + offset) + 1;
		}
	}
	memcpy(files->paths + files->paths_used, path, len);
	state = &files->items[files->count++];
	memset(state, 0, sizeof(*state));
	state->path = files->paths + files->paths_used;
	files->paths_used += len;
	if (st == NULL) {
		state->error = error != 0 ? error : EIO;
		return 0;
	}
	state->dev = st->st_dev;
	state->ino = st->st_ino;
	state->mode = st->st_mode;
	state->uid = st->st_uid;
	state->gid = st->st_gid;
	state->size = st->st_size;
	state->mtime = st->st_mtim;
	state->ctime = st->st_ctim;
	return 0;
}

bool policy_files_changed(const struct policy_file_state *items,
			  size_t count)
{
	struct stat st;
	size_t i;

	for (i = 0; i < count; i++) {
		const struct policy_file_state *f = &items[i];

		if (stat(f->path, &st) < 0) {
			if (f->error != errno)
				return true;
			continue;
		}
		if (f->error != 0 || st.st_dev != f->dev ||
		    st.st_ino != f->ino || st.st_mode != f->mode ||
		    st.st_uid != f->uid || st.st_gid != f->gid ||
		    st.st_size != f->size ||
		    st.st_mtim.tv_sec != f->mtime.tv_sec ||
		    st.st_mtim.tv_nsec != f->mtime.tv_nsec ||
		    st.st_ctim.tv_sec != f->ctime.tv_sec ||
		    st.st_ctim.tv_nsec != f->ctime.tv_nsec)
			return true;
	}
	return false;
}

char *policy_absolute_path_dup(const struct mp_env *env, const char *path)
{
	size_t len = strlen(path), cwd_len;
	char *cwd, *copy;

	if (path[0] == '/') {
		copy = env->alloc(env->ctx, len + 1);
		if (copy == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		memcpy(copy, path, len + 1);
		return copy;
	}
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return NULL;
	cwd_len = strlen(cwd);
	copy = env->alloc(env->ctx, cwd_len + 1 + len + 1);
	if (copy == NULL) {
		free(cwd);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(copy, cwd, cwd_len);
	copy[cwd_len] = '/';
	memcpy(copy + cwd_len + 1, path, len + 1);
	free(cwd);
	return copy;
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

/* Records the path's state when it could not be read through a
   descriptor. */
static int record_by_path(struct policy_files *files, struct policy_errctx *ctx,
			  const char *path)
{
	struct stat st;
	int ret;

	ret = stat(path, &st);
	if (policy_files_add(files, path, ret < 0 ? NULL : &st,
			     ret < 0 ? errno : 0) < 0)
		return policy_error_oom(ctx);
	return 0;
}

int policy_read_file(const struct mp_env *env, struct policy_errctx *ctx,
		     const char *path, size_t max_size,
		     struct policy_files *files, char **data_r,
		     size_t *size_r)
{
	struct stat st;
	char *buf = NULL;
	size_t alloc_size, size;
	int fd, ret, saved;

	*data_r = NULL;
	*size_r = 0;
	/* O_NONBLOCK: a FIFO in its place must not hang a reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		saved = errno;
		if (record_by_path(files, ctx, path) < 0)
			return -1;
		return policy_error_file(ctx, "cannot open: %s",
					 strerror(saved));
	}
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		if (record_by_path(files, ctx, path) < 0)
			return -1;
		return policy_error_file(ctx, "cannot stat: %s",
					 strerror(saved));
	}
	if (policy_files_add(files, path, &st, 0) < 0) {
		close(fd);
		return policy_error_oom(ctx);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return policy_error_file(ctx, "not a regular file");
	}
	if ((uint64_t)st.st_size > max_size) {
		close(fd);
		return policy_error_file(ctx, "file too large (limit %zu "
					 "bytes)", max_size);
	}
	/* One byte more than stat said, to see a file that grew. */
	alloc_size = (size_t)st.st_size + 1;
	buf = env->alloc(env->ctx, alloc_size);
	if (buf == NULL) {
		close(fd);
		return policy_error_oom(ctx);
	}
	if (read_all(fd, buf, alloc_size, &size) < 0) {
		ret = policy_error_file(ctx, "cannot read: %s",
					strerror(errno));
		env->free(env->ctx, buf);
		close(fd);
		return ret;
	}
	close(fd);
	if (size != (size_t)st.st_size) {
		env->free(env->ctx, buf);
		return policy_error_file(ctx, "changed while being read "
					 "(try again)");
	}
	*data_r = buf;
	*size_r = size;
	return 0;
}

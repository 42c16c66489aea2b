#ifndef MAILPOLICY_ENV_H
#define MAILPOLICY_ENV_H

/* mp_env: the allocator and logger a host injects into the policy core.
 *
 * Dovecot passes wrappers over its pools and i_*() logging, the milter
 * malloc and syslog, the CLI and the tests mp_env_default().  Every core
 * function that allocates or logs takes a `const struct mp_env *`; NULL
 * means mp_env_default().  The struct must outlive every object made
 * with it. */

#include <stddef.h>

enum mp_log_level {
	MP_LOG_DEBUG,
	MP_LOG_INFO,
	MP_LOG_WARNING,
	MP_LOG_ERROR,
};

struct mp_env {
	/* Returns zero-filled memory, or NULL on failure (the core then
	   fails the operation with an "out of memory" error). */
	void *(*alloc)(void *ctx, size_t size);
	/* Like realloc(); the bytes past old_size are NOT guaranteed to
	   be zeroed.  old_size is the size the block was allocated with. */
	void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
	/* Frees a block from alloc/realloc; NULL is a no-op. */
	void (*free)(void *ctx, void *ptr);
	/* One complete message, without a trailing newline.  May be NULL:
	   messages are then dropped. */
	void (*log)(void *ctx, enum mp_log_level level, const char *message);
	void *ctx;
};

/* calloc/realloc/free and a logger that writes "mailpolicy: LEVEL: msg"
   to stderr (debug messages dropped).  Never NULL, static storage. */
const struct mp_env *mp_env_default(void);

/* The env to use for a possibly-NULL argument. */
static inline const struct mp_env *mp_env_or_default(const struct mp_env *env)
{
	return env != NULL ? env : mp_env_default();
}

#endif

/* env.c: the default allocator and logger of the policy core
 * (calloc/realloc/free, stderr).  Hosts inject their own mp_env. */

#include <stdio.h>
#include <stdlib.h>

#include "mailpolicy/env.h"

static void *default_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return calloc(1, size == 0 ? 1 : size);
}

static void *default_realloc(void *ctx, void *ptr, size_t old_size,
			     size_t new_size)
{
	(void)ctx;
	(void)old_size;
	return realloc(ptr, new_size == 0 ? 1 : new_size);
}

static void default_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static void default_log(void *ctx, enum mp_log_level level,
			const char *message)
{
	static const char *const names[] = {
		[MP_LOG_DEBUG] = "debug",
		[MP_LOG_INFO] = "info",
		[MP_LOG_WARNING] = "warning",
		[MP_LOG_ERROR] = "error",
	};

	(void)ctx;
	if (level == MP_LOG_DEBUG)
		return;
	fprintf(stderr, "mailpolicy: %s: %s\n",
		(unsigned)level < sizeof(names) / sizeof(names[0]) ?
		names[level] : "?", message);
}

static const struct mp_env default_env = {
	.alloc = default_alloc,
	.realloc = default_realloc,
	.free = default_free,
	.log = default_log,
	.ctx = NULL,
};

const struct mp_env *mp_env_default(void)
{
	return &default_env;
}

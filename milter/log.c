/* log.c: syslog for the milter (see log.h). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void log_open(int foreground)
{
	openlog("mailpolicy-milter", LOG_PID | LOG_NDELAY |
		(foreground ? LOG_PERROR : 0), LOG_MAIL);
}

void log_msg(int priority, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	/* values come from clients (addresses, macros): one line each,
	   whatever bytes they hold */
	for (char *p = line; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	syslog(priority, "%s", line);
}

static void *env_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return calloc(1, size);
}

static void *env_realloc(void *ctx, void *ptr, size_t old_size,
			 size_t new_size)
{
	(void)ctx;
	(void)old_size;
	return realloc(ptr, new_size);
}

static void env_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static void env_log(void *ctx, enum mp_log_level level, const char *message)
{
	static const int prio[] = {
		[MP_LOG_DEBUG] = LOG_DEBUG, [MP_LOG_INFO] = LOG_INFO,
		[MP_LOG_WARNING] = LOG_WARNING, [MP_LOG_ERROR] = LOG_ERR,
	};

	(void)ctx;
	syslog(prio[level], "%s", message);
}

static const struct mp_env milter_env = {
	.alloc = env_alloc,
	.realloc = env_realloc,
	.free = env_free,
	.log = env_log,
	.ctx = NULL,
};

const struct mp_env *log_env(void)
{
	return &milter_env;
}

#ifndef MILTER_LOG_H
#define MILTER_LOG_H

/* log: syslog (facility mail) for the milter; with -f also stderr.  Lines
 * about a message start with its queue id ("4Xyz12: ..."), as Postfix's
 * own do, so that one grep follows a message through both. */

#include <syslog.h>

#include "mailpolicy/env.h"

/* Longer lines are cut. */
#define LOG_LINE_MAX 2048

void log_open(int foreground);
/* Control characters in the line (CR, LF, ...) become '?'. */
void log_msg(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* malloc and this log, for the core. */
const struct mp_env *log_env(void);

#endif

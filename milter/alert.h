#ifndef MILTER_ALERT_H
#define MILTER_ALERT_H

/* alert: the milter's alert_command, run when a rate key trips, for a
 * panel to lock the account or mail the administrator.
 *
 * At most once per key and window, whatever the number of milters: the
 * milter asks the rate store for a one-event-per-window permit under
 * "alert/" + the counter's key, so with a Redis store shared by several
 * milters one of them runs the command and the others do not.  (A
 * permit is one per window length: after an alert at t the next can come
 * no sooner than the start of the window after next, between one and
 * two window lengths later.)
 *
 * No shell: the command's words and six arguments go to posix_spawn()
 * (listener label, key name, counted value, limit COUNT/DURATION, count
 * in the window, login or ""), with stdin from /dev/null, stdout and
 * stderr to the milter's stderr, no other descriptor, default signal
 * handling, PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 * as its whole environment, in a process group of its own.  A command
 * still running after ALERT_TIMEOUT_SECS gets SIGTERM (its whole
 * group), SIGKILL two seconds later; every child is waited for, so none
 * is left a zombie.  At most ALERT_MAX_RUNNING run at once; an alert
 * beyond that is logged and dropped (before taking its permit, so a
 * later trip of the key can still alert).  The check of the permit and
 * the command run on a thread of their own: no message waits for them. */

#include <stdint.h>

#include "mailpolicy/policy.h"
#include "config.h"

#define ALERT_TIMEOUT_SECS 10
#define ALERT_MAX_RUNNING 8

struct alert_event {
	const char *queue_id;		/* for the log */
	const char *listener;		/* label */
	enum mp_limit_key key;
	const char *value;		/* the counted value */
	struct mp_rate_spec window;	/* the window that tripped */
	uint64_t count;			/* the count in that window */
	const char *login;		/* "" when none */
	const char *counter;		/* the counter's key */
};

/* Runs config's alert_command for ev in the background (nothing when the
   config has none); returns at once.  Strings are copied. */
void alert_tripped(struct milter_config *config, const struct alert_event *ev);

#endif

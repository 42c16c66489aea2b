/* startup-gate.c: an LD_PRELOAD library for test_startup.py.
 *
 * mailpolicy-milter calls openlog() first thing in main(), before it
 * reads the policy.  With MP_GATE set, this openlog() creates
 * MP_GATE.waiting and then waits until the file MP_GATE exists, so that
 * the test can send a signal at a known point of the start, instead of
 * racing it. */

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

void openlog(const char *ident, int option, int facility)
{
	void (*real)(const char *, int, int);
	const char *gate = getenv("MP_GATE");

	if (gate != NULL) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		char waiting[4096];
		int fd;

		snprintf(waiting, sizeof(waiting), "%s.waiting", gate);
		fd = open(waiting, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		while (access(gate, F_OK) != 0)
			nanosleep(&ts, NULL);
	}
	real = (void (*)(const char *, int, int))dlsym(RTLD_NEXT, "openlog");
	if (real != NULL)
		real(ident, option, facility);
}

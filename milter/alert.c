/* alert.c: alert_command (see alert.h). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "log.h"

#define ALERT_ARGS 6
#define ALERT_KILL_GRACE_MS 2000
#define ALERT_PREFIX "alert/"

struct alert_job {
	struct milter_config *config;
	char **argv;			/* alert_command + 6 args + NULL */
	size_t argc;
	char *permit;			/* "alert/" + counter key */
	struct mp_rate_spec window;
	char queue_id[64];
};

static unsigned int running;

static char *const alert_envp[] = {
	(char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	NULL
};

static void job_free(struct alert_job *job)
{
	if (job->argv != NULL) {
		for (size_t i = 0; i < job->argc; i++)
			free(job->argv[i]);
		free(job->argv);
	}
	free(job->permit);
	config_unref(&job->config);
	free(job);
}

static uint64_t now_ms_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits up to timeout_ms for pid to exit; true (and *status) when it
   did, false when it still runs.  A pidfd when the kernel has them, else
   polling. */
static bool wait_exit(pid_t pid, int pidfd, uint64_t timeout_ms, int *status)
{
	uint64_t deadline = now_ms_monotonic() + timeout_ms;

	for (;;) {
		uint64_t now = now_ms_monotonic();
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return true;
		if (now >= deadline)
			return false;
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			(void)poll(&p, 1, (int)(deadline - now));
		} else {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
}

static void run_command(struct alert_job *job)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	static const int reset[] = {
		SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD,
		SIGALRM, SIGQUIT,
	};
	const char *cmd = job->argv[0], *how = NULL;
	int status = 0, pidfd, err;
	pid_t pid;

	posix_spawn_file_actions_init(&actions);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, 2, 1);
	posix_spawn_file_actions_addclosefrom_np(&actions, 3);
	sigemptyset(&none);
	sigemptyset(&defaults);
	for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaddset(&defaults, reset[i]);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	err = posix_spawn(&pid, cmd, &actions, &attr, job->argv, alert_envp);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	if (err != 0) {
		log_msg(LOG_ERR, "%s: alert_command %s cannot run: %s",
			job->queue_id, cmd, strerror(err));
		return;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (!wait_exit(pid, pidfd, ALERT_TIMEOUT_SECS * 1000ULL, &status)) {
		/* the whole group: a script's own children too */
		kill(-pid, SIGTERM);
		how = "SIGTERM";
		if (!wait_exit(pid, pidfd, ALERT_KILL_GRACE_MS, &status)) {
			kill(-pid, SIGKILL);
			how = "SIGKILL";
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (how != NULL) {
		log_msg(LOG_WARNING, "%s: alert_command %s (pid %ld) still ran "
			"after %d s: stopped with %s", job->queue_id, cmd,
			(long)pid, ALERT_TIMEOUT_SECS, how);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_msg(LOG_INFO, "%s: alert_command %s (pid %ld) done",
			job->queue_id, cmd, (long)pid);
	} else if (WIFEXITED(status)) {
		log_msg(LOG_WARNING, "%s: alert_command %s (pid %ld) failed: "
			"exit status %d", job->queue_id, cmd, (long)pid,
			WEXITSTATUS(status));
	} else {
		log_msg(LOG_WARNING, "%s: alert_command %s (pid %ld) killed by "
			"signal %d", job->queue_id, cmd, (long)pid,
			WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
}

static void *alert_thread(void *arg)
{
	struct alert_job *job = arg;
	struct mp_rate_spec permit = { 1, job->window.window_secs };
	const char *error = NULL;
	enum mp_rate_status status;

	status = mp_rate_check(config_rate_store(job->config), job->permit,
			       &permit, mp_rate_clock_ms(), NULL, &error);
	if (status == MP_RATE_ALLOWED) {
		run_command(job);
	} else if (status == MP_RATE_LIMITED) {
		log_msg(LOG_INFO, "%s: alert_command not run for %s: it ran "
			"for this key in this window already", job->queue_id,
			job->permit + strlen(ALERT_PREFIX));
	} else {
		log_msg(LOG_WARNING, "%s: alert_command not run for %s: the "
			"rate store failed (%s)", job->queue_id,
			job->permit + strlen(ALERT_PREFIX),
			error != NULL ? error : "?");
	}
	job_free(job);
	__atomic_sub_fetch(&running, 1, __ATOMIC_RELAXED);
	return NULL;
}

static char *format_u64(uint64_t n)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
	return strdup(buf);
}

void alert_tripped(struct milter_config *config, const struct alert_event *ev)
{
	const struct mp_milter_settings *m = config->milter;
	struct alert_job *job;
	pthread_attr_t attr;
	pthread_t thread;
	char rate[48];
	size_t n = m->alert_command_count;
	bool ok = true;

	if (m->alert_command == NULL || n == 0)
		return;
	if (__atomic_add_fetch(&running, 1, __ATOMIC_RELAXED) >
	    ALERT_MAX_RUNNING) {
		__atomic_sub_fetch(&running, 1, __ATOMIC_RELAXED);
		log_msg(LOG_WARNING, "%s: alert_command not run for %s: %d "
			"alerts are running already", ev->queue_id,
			ev->counter, ALERT_MAX_RUNNING);
		return;
	}
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		goto oom;
	job->config = config_ref(config);
	job->window = ev->window;
	snprintf(job->queue_id, sizeof(job->queue_id), "%s", ev->queue_id);
	job->argv = calloc(n + ALERT_ARGS + 1, sizeof(char *));
	if (job->argv == NULL)
		goto oom_job;
	job->argc = n + ALERT_ARGS;
	for (size_t i = 0; i < n; i++)
		ok = ok && (job->argv[i] = strdup(m->alert_command[i])) != NULL;
	mp_units_format_rate(&ev->window, rate, sizeof(rate));
	ok = ok && (job->argv[n] = strdup(ev->listener)) != NULL &&
		(job->argv[n + 1] = strdup(mp_limit_key_name(ev->key))) != NULL &&
		(job->argv[n + 2] = strdup(ev->value)) != NULL &&
		(job->argv[n + 3] = strdup(rate)) != NULL &&
		(job->argv[n + 4] = format_u64(ev->count)) != NULL &&
		(job->argv[n + 5] = strdup(ev->login)) != NULL &&
		(job->permit = malloc(strlen(ALERT_PREFIX) +
				      strlen(ev->counter) + 1)) != NULL;
	if (!ok)
		goto oom_job;
	strcpy(job->permit, ALERT_PREFIX);
	strcat(job->permit, ev->counter);
	if (pthread_attr_init(&attr) != 0)
		goto oom_job;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, alert_thread, job) != 0) {
		pthread_attr_destroy(&attr);
		goto oom_job;
	}
	pthread_attr_destroy(&attr);
	return;
oom_job:
	job_free(job);
oom:
	__atomic_sub_fetch(&running, 1, __ATOMIC_RELAXED);
	log_msg(LOG_ERR, "%s: alert_command not run for %s: out of memory "
		"or threads", ev->queue_id, ev->counter);
}

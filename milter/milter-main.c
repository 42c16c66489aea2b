/* milter-main.c: mailpolicy-milter's command line and process life.
 *
 *   mailpolicy-milter [-c FILE] [-n] [-f] [-p PIDFILE] [-u USER[:GROUP]]
 *
 * -c the policy file (default /etc/mailpolicy/mailpolicy.conf); -n checks
 * it as the milter would load it (policy, HMAC key, rate store settings)
 * and exits 0 or 1; -f stays in the foreground and also logs to stderr;
 * -p writes a pid file; -u drops to USER (and GROUP, else USER's group)
 * after the socket is open, and gives a Unix socket to that user and
 * group with mode 0660, so that Postfix can reach it through the group.
 *
 * Signals: libmilter owns SIGHUP, SIGTERM and SIGINT (stop).  SIGUSR1
 * reloads the policy (the old one stays on any error, and the log says
 * why); SIGUSR2 writes the stats line now.  A thread of ours waits for
 * these with sigwait(), so nothing runs in a signal handler.
 *
 * DIAGNOSTICS: errors go to syslog (mail facility) and, with -f or
 * before the fork, to stderr; exit status 1 for a bad file or setup. */

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "glue.h"
#include "log.h"
#include "stats.h"

#define STATS_INTERVAL_SECS 300

static const char *config_path = MP_POLICY_DEFAULT_PATH;

static void usage(void)
{
	fprintf(stderr, "usage: mailpolicy-milter [-c FILE] [-n] [-f] "
		"[-p PIDFILE] [-u USER[:GROUP]]\n");
	exit(1);
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	time_t next_stats = time(NULL) + STATS_INTERVAL_SECS;

	for (;;) {
		struct timespec timeout = { 1, 0 };
		siginfo_t info;
		int sig = sigtimedwait(set, &info, &timeout);
		char error[MP_ERROR_MAX + 64];

		if (sig == SIGUSR1) {
			struct milter_config *c;

			/* the lines tests and operators wait for: one,
			   once the outcome is final */
			if (config_reload(config_path, error,
					  sizeof(error)) < 0) {
				c = config_current();
				log_msg(LOG_ERR, "policy reload failed: %s "
					"(keeping generation %u)", error,
					c->generation);
			} else {
				c = config_current();
				log_msg(LOG_INFO, "policy reloaded: %s "
					"(generation %u)", config_path,
					c->generation);
			}
			config_unref(&c);
			stats_log();
		} else if (sig == SIGUSR2) {
			stats_log();
		}
		if (time(NULL) >= next_stats) {
			stats_log();
			next_stats = time(NULL) + STATS_INTERVAL_SECS;
		}
	}
	return NULL;
}

/* TCP_NODELAY on libmilter's listening TCP socket (Linux gives it to
   every connection accepted there).  At the end of a message libmilter
   writes each header change and then the final reply as separate
   writes; with Nagle's algorithm the reply waits until Postfix ACKs the
   header change, and Postfix, which sends nothing until that reply,
   delays its ACK by up to 40 ms: a stall per message.  libmilter has no
   option for this and does not hand out its socket, so it is found
   among our descriptors: the one TCP socket that listens. */
static void listener_nodelay(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *d;

	if (dir == NULL) {
		log_msg(LOG_WARNING, "cannot set TCP_NODELAY: /proc/self/fd: "
			"%s", strerror(errno));
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int fd, on = 1, listening = 0;
		socklen_t olen = sizeof(listening);
		char *end;
		long n = strtol(d->d_name, &end, 10);

		if (*end != '\0' || n < 0 || n > INT32_MAX || n == dirfd(dir))
			continue;
		fd = (int)n;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
			       &olen) < 0 || !listening ||
		    getsockname(fd, (struct sockaddr *)&addr, &len) < 0 ||
		    (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
			       sizeof(on)) < 0)
			log_msg(LOG_WARNING, "cannot set TCP_NODELAY: %s",
				strerror(errno));
	}
	closedir(dir);
}

/* USER or USER:GROUP to ids. */
static int lookup_user(const char *spec, uid_t *uid_r, gid_t *gid_r,
		       char **name_r)
{
	char *copy = strdup(spec), *colon;
	struct passwd *pw;

	if (copy == NULL)
		return -1;
	colon = strchr(copy, ':');
	if (colon != NULL)
		*colon++ = '\0';
	pw = getpwnam(copy);
	if (pw == NULL) {
		fprintf(stderr, "mailpolicy-milter: -u %s: no such user\n",
			copy);
		free(copy);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	if (colon != NULL) {
		struct group *gr = getgrnam(colon);

		if (gr == NULL) {
			fprintf(stderr, "mailpolicy-milter: -u %s: no such "
				"group %s\n", spec, colon);
			free(copy);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	*name_r = copy;
	return 0;
}

int main(int argc, char **argv)
{
	const char *pidfile = NULL, *user = NULL;
	bool check_only = false, foreground = false;
	struct milter_config *config;
	char error[MP_ERROR_MAX + 64];
	const char *sock;
	static sigset_t set;
	pthread_t thread;
	uid_t uid = 0;
	gid_t gid = 0;
	char *user_name = NULL;
	int opt, ret;

	/* Blocked from the first instruction on, and every thread,
	   libmilter's included, inherits this mask: only our signal thread
	   takes SIGUSR1/SIGUSR2.  A reload asked for while the policy is
	   still loading (systemctl reload just after start) waits for that
	   thread instead of killing the process, SIGUSR1's default. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	while ((opt = getopt(argc, argv, "c:nfp:u:")) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'n': check_only = true; break;
		case 'f': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'u': user = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	log_open(foreground || check_only);
	config = config_load(config_path, NULL, error, sizeof(error));
	if (config == NULL) {
		log_msg(LOG_ERR, "%s", error);
		return 1;
	}
	if (check_only) {
		printf("%s: OK\n", config_path);
		config_unref(&config);
		return 0;
	}
	if (user != NULL && lookup_user(user, &uid, &gid, &user_name) < 0)
		return 1;
	config_install(config);
	sock = mp_policy_milter(config->policy)->socket;

	if (glue_register(strncmp(sock, "inet", 4) == 0) < 0 ||
	    smfi_setconn((char *)sock) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot set up the milter socket %s", sock);
		return 1;
	}
	/* the socket: group rw, so postfix can reach it as a group member */
	umask(007);
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot open the milter socket %s", sock);
		return 1;
	}
	listener_nodelay();
	if (user != NULL) {
		if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0) {
			const char *path = strchr(sock, ':') + 1;

			if (chown(path, uid, gid) < 0 || chmod(path, 0660) < 0) {
				log_msg(LOG_ERR, "%s: cannot give the socket to "
					"%s: %s", path, user, strerror(errno));
				return 1;
			}
		}
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 ||
		    setuid(uid) < 0) {
			log_msg(LOG_ERR, "cannot become %s: %s", user,
				strerror(errno));
			return 1;
		}
	}
	free(user_name);
	if (!foreground) {
		if (daemon(0, 0) < 0) {
			log_msg(LOG_ERR, "cannot go to the background: %s",
				strerror(errno));
			return 1;
		}
	}
	if (pidfile != NULL) {
		FILE *fp = fopen(pidfile, "w");

		if (fp == NULL || fprintf(fp, "%ld\n", (long)getpid()) < 0 ||
		    fclose(fp) != 0) {
			log_msg(LOG_ERR, "%s: cannot write the pid file: %s",
				pidfile, strerror(errno));
			return 1;
		}
	}

	if (pthread_create(&thread, NULL, signal_thread, &set) != 0) {
		log_msg(LOG_ERR, "cannot start the signal thread");
		return 1;
	}
	pthread_detach(thread);

	log_msg(LOG_INFO, "started: policy %s, socket %s, mode %s, rate "
		"store %s", config_path, sock,
		mp_milter_mode_name(config->milter->mode),
		config->store != NULL ?
		mp_rate_store_name(config_rate_store(config)) : "none");
	ret = smfi_main();
	log_msg(LOG_INFO, "stopped");
	stats_log();
	if (pidfile != NULL)
		unlink(pidfile);
	config_shutdown();
	return ret == MI_SUCCESS ? 0 : 1;
}

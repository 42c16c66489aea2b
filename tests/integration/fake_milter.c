/* fake_milter.c: a stand-in for mailpolicy-milter, used only by the harness's
   self-tests (test_harness.py) to test the milter plumbing on every stack
   (the Debian 13 tree has a compiler and libmilter, not Python).

   Called as the real one is (`-c POLICY -f [-p PIDFILE]`), it reads from the
   policy's milter block: socket (libmilter syntax), audit_header, rate_store
   (redis://[:PASS@]HOST:PORT[/DB]) and rate_store_failure (accept|tempfail).
   Per message it counts one INCR of `fake-milter:AUDIT_HEADER` in Redis (a
   store that does not answer: 451 4.3.0 with tempfail), rejects RCPT TO
   <dave@example.org> with 550 5.7.1, and adds the header
   `AUDIT_HEADER: fake-milter generation=N`. SIGUSR1 re-reads the policy and
   prints the reload contract's line (tests/harness/README.md). Lines
   `# fake-milter: exit N` (exit with N shortly after starting) and
   `# fake-milter: invalid` (the file does not load) let a test make it fail.
   The process umask is 077, so a unix socket is usable by root only unless
   the harness changes its mode. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

struct fake_policy {
	char socket[512];
	char audit_header[128];
	char redis_host[128];
	char redis_password[128];
	int redis_port;
	int redis_db;
	int tempfail_on_store_failure;
	int exit_code; /* -1: none */
	int invalid;
	int generation;
};

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_policy policy;
static const char *policy_file;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mailpolicy-milter[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void copy_value(char *dst, size_t size, const char *value)
{
	snprintf(dst, size, "%.*s", (int)strcspn(value, " \t#"), value);
}

static void parse_redis(struct fake_policy *p, const char *url)
{
	char buf[512];
	char *host = buf, *at, *colon, *slash;

	copy_value(buf, sizeof(buf), url + strlen("redis://"));
	at = strchr(host, '@');
	if (at != NULL) {
		*at = '\0';
		snprintf(p->redis_password, sizeof(p->redis_password), "%.127s",
			 host[0] == ':' ? host + 1 : host);
		host = at + 1;
	}
	slash = strchr(host, '/');
	if (slash != NULL) {
		*slash = '\0';
		p->redis_db = (int)strtol(slash + 1, NULL, 10);
	}
	colon = strrchr(host, ':');
	p->redis_port = 6379;
	if (colon != NULL) {
		*colon = '\0';
		p->redis_port = (int)strtol(colon + 1, NULL, 10);
	}
	snprintf(p->redis_host, sizeof(p->redis_host), "%.127s", host);
}

/* Reads path into *p; returns 0, or -1 with a reason in err. */
static int load_policy(const char *path, struct fake_policy *p, char *err, size_t errsize)
{
	char line[2048];
	int depth = 0, in_milter = 0, lineno = 0;
	FILE *f = fopen(path, "r");

	memset(p, 0, sizeof(*p));
	p->exit_code = -1;
	snprintf(p->audit_header, sizeof(p->audit_header), "X-Mailpolicy");
	if (f == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line);

		lineno++;
		if (strncmp(s, "# fake-milter: exit ", 20) == 0)
			p->exit_code = (int)strtol(s + 20, NULL, 10);
		if (strcmp(s, "# fake-milter: invalid") == 0)
			p->invalid = lineno;
		if (*s == '#' || *s == '\0')
			continue;
		for (char *h = s; (h = strchr(h, '#')) != NULL; h++) {
			if (isspace((unsigned char)h[-1])) {
				*h = '\0';
				s = trim(s);
				break;
			}
		}
		if (s[strlen(s) - 1] == '{') {
			if (depth == 0 && strncmp(s, "milter", 6) == 0 &&
			    (isspace((unsigned char)s[6]) || s[6] == '{'))
				in_milter = 1;
			depth++;
			continue;
		}
		if (*s == '}') {
			if (--depth < 0)
				break;
			in_milter = 0;
			continue;
		}
		if (!in_milter)
			continue;
		if (strncmp(s, "socket", 6) == 0 && strchr(s, '=') != NULL)
			copy_value(p->socket, sizeof(p->socket), trim(strchr(s, '=') + 1));
		else if (strncmp(s, "audit_header", 12) == 0 && strchr(s, '=') != NULL)
			copy_value(p->audit_header, sizeof(p->audit_header),
				   trim(strchr(s, '=') + 1));
		else if (strncmp(s, "rate_store_failure", 18) == 0 && strchr(s, '=') != NULL)
			p->tempfail_on_store_failure =
				strncmp(trim(strchr(s, '=') + 1), "tempfail", 8) == 0;
		else if (strncmp(s, "rate_store", 10) == 0 && strchr(s, '=') != NULL &&
			 strncmp(trim(strchr(s, '=') + 1), "redis://", 8) == 0)
			parse_redis(p, trim(strchr(s, '=') + 1));
	}
	fclose(f);
	if (p->invalid) {
		snprintf(err, errsize, "%s:%d:1: marked invalid for the test", path, p->invalid);
		return -1;
	}
	if (depth != 0) {
		snprintf(err, errsize, "%s:%d:1: unbalanced braces", path, lineno);
		return -1;
	}
	if (p->socket[0] == '\0') {
		snprintf(err, errsize, "%s: no socket in the milter block", path);
		return -1;
	}
	return 0;
}

/* Minimal RESP client: AUTH, SELECT, INCR key. Returns 0 or -1. */
static int redis_incr(const struct fake_policy *p, const char *key)
{
	struct sockaddr_in sa;
	struct timeval tv = { 1, 0 };
	char cmd[1024], reply[256];
	size_t len = 0;
	ssize_t n;
	int fd, ok = 0, expect = 1;

	if (p->redis_password[0] != '\0') {
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n",
					strlen(p->redis_password), p->redis_password);
		expect++;
	}
	len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%d\r\n",
				p->redis_db >= 10 ? 2 : 1, p->redis_db);
	len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "*2\r\n$4\r\nINCR\r\n$%zu\r\n%s\r\n",
				strlen(key), key);
	expect++;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)p->redis_port);
	if (inet_pton(AF_INET, p->redis_host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, cmd, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	/* Count the reply lines; every reply here is one line. */
	while (expect > 0 && (n = read(fd, reply, sizeof(reply) - 1)) > 0) {
		reply[n] = '\0';
		if (strchr(reply, '-') == reply)
			break;
		for (char *q = reply; (q = strstr(q, "\r\n")) != NULL; q += 2)
			expect--;
		ok = expect <= 0;
	}
	close(fd);
	return ok ? 0 : -1;
}

static sfsistat fake_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
	return SMFIS_CONTINUE;
}

static sfsistat fake_helo(SMFICTX *ctx, char *name)
{
	return SMFIS_CONTINUE;
}

static sfsistat fake_envfrom(SMFICTX *ctx, char **argv)
{
	struct fake_policy p;
	char key[256];

	pthread_mutex_lock(&policy_lock);
	p = policy;
	pthread_mutex_unlock(&policy_lock);
	if (p.redis_host[0] == '\0')
		return SMFIS_CONTINUE;
	snprintf(key, sizeof(key), "fake-milter:%.127s", p.audit_header);
	if (redis_incr(&p, key) == 0)
		return SMFIS_CONTINUE;
	logf_("rate store %s:%d did not answer", p.redis_host, p.redis_port);
	if (!p.tempfail_on_store_failure)
		return SMFIS_CONTINUE;
	smfi_setreply(ctx, "451", "4.3.0", "fake milter: rate store unavailable");
	return SMFIS_TEMPFAIL;
}

static sfsistat fake_envrcpt(SMFICTX *ctx, char **argv)
{
	if (argv[0] != NULL && strcasecmp(argv[0], "<dave@example.org>") == 0) {
		smfi_setreply(ctx, "550", "5.7.1", "blocked by the fake milter");
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat fake_eom(SMFICTX *ctx)
{
	char header[128], value[128];

	pthread_mutex_lock(&policy_lock);
	snprintf(header, sizeof(header), "%.127s", policy.audit_header);
	snprintf(value, sizeof(value), "fake-milter generation=%d", policy.generation);
	pthread_mutex_unlock(&policy_lock);
	smfi_addheader(ctx, header, value);
	return SMFIS_CONTINUE;
}

static void *reload_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		struct fake_policy fresh;
		char err[600];

		if (sigwait(set, &sig) != 0)
			continue;
		if (load_policy(policy_file, &fresh, err, sizeof(err)) < 0) {
			pthread_mutex_lock(&policy_lock);
			logf_("policy reload failed: %s (keeping generation %d)", err,
			      policy.generation);
			pthread_mutex_unlock(&policy_lock);
			continue;
		}
		pthread_mutex_lock(&policy_lock);
		fresh.generation = policy.generation + 1;
		snprintf(fresh.socket, sizeof(fresh.socket), "%s", policy.socket);
		policy = fresh;
		logf_("policy reloaded: %s (generation %d)", policy_file, policy.generation);
		pthread_mutex_unlock(&policy_lock);
	}
	return NULL;
}

static struct smfiDesc fake_desc = {
	.xxfi_name = "mailpolicy-fake",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = fake_connect,
	.xxfi_helo = fake_helo,
	.xxfi_envfrom = fake_envfrom,
	.xxfi_envrcpt = fake_envrcpt,
	.xxfi_eom = fake_eom,
};

int main(int argc, char **argv)
{
	static sigset_t usr1;
	const char *pidfile = NULL;
	char err[600];
	pthread_t tid;
	int opt, check = 0;

	while ((opt = getopt(argc, argv, "c:fnp:u:")) != -1) {
		switch (opt) {
		case 'c': policy_file = optarg; break;
		case 'n': check = 1; break;
		case 'p': pidfile = optarg; break;
		case 'f': case 'u': break;
		default: return 2;
		}
	}
	if (policy_file == NULL) {
		fprintf(stderr, "usage: %s -c POLICY [-f] [-n] [-p PIDFILE]\n", argv[0]);
		return 2;
	}
	if (load_policy(policy_file, &policy, err, sizeof(err)) < 0) {
		logf_("cannot load the policy: %s", err);
		return 1;
	}
	if (check)
		return 0;
	policy.generation = 1;
	if (policy.exit_code >= 0) {
		usleep(300 * 1000);
		logf_("exiting with %d as the policy asks", policy.exit_code);
		return policy.exit_code;
	}
	if (pidfile != NULL) {
		FILE *f = fopen(pidfile, "w");
		if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
			logf_("cannot write %s: %s", pidfile, strerror(errno));
			return 1;
		}
	}
	umask(077);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (pthread_create(&tid, NULL, reload_thread, &usr1) != 0)
		return 1;
	if (smfi_setconn(policy.socket) == MI_FAILURE || smfi_register(fake_desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		logf_("cannot listen on %s", policy.socket);
		return 1;
	}
	logf_("policy loaded: %s (generation 1), listening on %s", policy_file, policy.socket);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}

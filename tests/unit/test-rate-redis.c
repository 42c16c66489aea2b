/* test-rate-redis.c: the Redis rate store (core/rate-redis.c) against a
 * real redis-server that the test starts itself (TCP on a free loopback
 * port, and a Unix socket with a password), so it needs no harness.
 *
 * The core of it is equivalence: the same random sequence of checks
 * (several keys, costs, window changes, clocks going back, limits and
 * windows big enough to take the script's long-division path) through
 * the memory store and through Redis must give identical answers, which
 * is what says the Lua script mirrors mp_rate_window_apply().  Then what
 * only Redis has: two stores (two "hosts") sharing one limit, NOSCRIPT,
 * AUTH and SELECT, a Redis that stops answering (SIGSTOP: the deadline)
 * or dies and comes back (reconnect).  Waits are for conditions, bounded;
 * no assertion is about time. */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "mailpolicy/rate.h"
#include "policy-test.h"

#define SEC 1000ULL
#define H (3600ULL * SEC)
#define NOW 1700000000000ULL
#define PASSWORD "s3cret pass"

static char tmpdir[64];
static char unix_path[128];
static uint16_t tcp_port;
static pid_t redis_pid;
static pid_t redis_auth_pid;

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static uint16_t free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		fprintf(stderr, "free_port: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
	return ntohs(sin.sin_port);
}

/* redis-server in the foreground, output to a log in tmpdir. */
static pid_t redis_start(const char *name, uint16_t port, const char *sock,
			 const char *password)
{
	char portbuf[16], log[128];
	pid_t pid;

	snprintf(portbuf, sizeof(portbuf), "%u", port);
	snprintf(log, sizeof(log), "%s/%s.log", tmpdir, name);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		const char *argv[20];
		int n = 0, fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		argv[n++] = "redis-server";
		argv[n++] = "--port"; argv[n++] = portbuf;
		argv[n++] = "--bind"; argv[n++] = "127.0.0.1";
		argv[n++] = "--save"; argv[n++] = "";
		argv[n++] = "--appendonly"; argv[n++] = "no";
		argv[n++] = "--dir"; argv[n++] = tmpdir;
		if (sock != NULL) {
			argv[n++] = "--unixsocket"; argv[n++] = sock;
			argv[n++] = "--unixsocketperm"; argv[n++] = "700";
		}
		if (password != NULL) {
			argv[n++] = "--requirepass"; argv[n++] = password;
		}
		argv[n] = NULL;
		execvp("redis-server", (char **)argv);
		_exit(127);
	}
	return pid;
}

static redisContext *raw_connect(void)
{
	struct timeval tv = { 1, 0 };

	return redisConnectWithTimeout("127.0.0.1", tcp_port, tv);
}

/* Waits (bounded) until the TCP server answers PING. */
static int redis_wait_tcp(void)
{
	for (int i = 0; i < 500; i++) {
		redisContext *c = raw_connect();

		if (c != NULL && c->err == 0) {
			redisReply *r = redisCommand(c, "PING");
			int ok = r != NULL && r->type == REDIS_REPLY_STATUS;

			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			if (ok)
				return 0;
		} else if (c != NULL) {
			redisFree(c);
		}
		sleep_ms(20);
	}
	return -1;
}

static int redis_wait_unix(void)
{
	struct stat st;

	for (int i = 0; i < 500; i++) {
		if (stat(unix_path, &st) == 0)
			return 0;
		sleep_ms(20);
	}
	return -1;
}

static void redis_stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGCONT);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

/* Runs cmd (one that answers +OK) on its own connection; fails unless
   Redis answered OK. */
static void raw_command(const char *cmd)
{
	redisContext *c = raw_connect();
	redisReply *r;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	r = redisCommand(c, cmd);
	assert_non_null(r);
	if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0)
		fail_msg("Redis answered %s with %s", cmd,
			 r->type == REDIS_REPLY_ERROR ||
			 r->type == REDIS_REPLY_STATUS ? r->str : "no status");
	freeReplyObject(r);
	redisFree(c);
}

static int group_setup(void **state)
{
	(void)state;
	if (policy_test_mkdtemp(tmpdir, "mp-test-redis") < 0)
		return -1;
	snprintf(unix_path, sizeof(unix_path), "%s/redis.sock", tmpdir);
	tcp_port = free_port();
	redis_pid = redis_start("tcp", tcp_port, NULL, NULL);
	/* the password server: Unix socket only */
	redis_auth_pid = redis_start("auth", 0, unix_path, PASSWORD);
	if (redis_wait_tcp() < 0 || redis_wait_unix() < 0) {
		fprintf(stderr, "redis-server did not start (logs in %s)\n",
			tmpdir);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	redis_stop(&redis_pid);
	redis_stop(&redis_auth_pid);
	return policy_test_rmtree(tmpdir);
}

static int test_setup(void **state)
{
	(void)state;
	raw_command("FLUSHALL");
	return 0;
}

static struct mp_rate_store *redis_new(unsigned int timeout_ms)
{
	struct mp_rate_redis_settings set;
	struct mp_rate_store *store = NULL;
	const char *error = NULL;

	memset(&set, 0, sizeof(set));
	set.host = "127.0.0.1";
	set.port = tcp_port;
	set.timeout_ms = timeout_ms;
	if (mp_rate_store_redis_create(NULL, &set, &store, &error) < 0)
		fail_msg("redis create: %s", error);
	return store;
}

static struct mp_rate_store *memory_new(void)
{
	struct mp_rate_store *store = NULL;
	const char *error = NULL;

	if (mp_rate_store_memory_create(NULL, 0, &store, &error) < 0)
		fail_msg("memory create: %s", error);
	return store;
}

static void test_basic(void **state)
{
	struct mp_rate_store *store = redis_new(0);
	struct mp_rate_result r;
	struct mp_rate_spec rate = { 3, 3600 };
	const char *error = NULL;

	(void)state;
	assert_string_equal(mp_rate_store_name(store), "redis");
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(mp_rate_check(store, "login/a", &rate, NOW,
					       &r, &error), MP_RATE_ALLOWED);
		assert_int_equal(r.count, i);
	}
	assert_int_equal(mp_rate_check(store, "login/a", &rate, NOW, &r,
				       &error), MP_RATE_LIMITED);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.retry_after_ms, H - NOW % H + 1);
	/* the key is in Redis, with the prefix, and expires */
	{
		redisContext *c = raw_connect();
		redisReply *reply = redisCommand(c, "PTTL mprate:login/a");

		assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
		assert_true(reply->integer > 0);
		freeReplyObject(reply);
		redisFree(c);
	}
	mp_rate_store_free(&store);
}

/* One refused key: nothing counted for the others. */
static void test_all_or_nothing(void **state)
{
	struct mp_rate_store *store = redis_new(0);
	struct mp_rate_item it[3];
	const char *error = NULL;

	(void)state;
	for (int i = 0; i < 2; i++) {
		policy_test_rate_item(&it[0], "login/a", 5, 3600, 1);
		policy_test_rate_item(&it[1], "ip/1", 2, 3600, 1);
		policy_test_rate_item(&it[2], "rcpt/a", 100, 3600, 10);
		assert_int_equal(mp_rate_check_items(store, it, 3, NOW, &error),
				 MP_RATE_ALLOWED);
	}
	policy_test_rate_item(&it[0], "login/a", 5, 3600, 1);
	policy_test_rate_item(&it[1], "ip/1", 2, 3600, 1);
	policy_test_rate_item(&it[2], "rcpt/a", 100, 3600, 10);
	assert_int_equal(mp_rate_check_items(store, it, 3, NOW, &error),
			 MP_RATE_LIMITED);
	assert_int_equal(it[0].status, MP_RATE_ALLOWED);
	assert_int_equal(it[0].result.count, 2);
	assert_int_equal(it[1].status, MP_RATE_LIMITED);
	assert_int_equal(it[2].status, MP_RATE_ALLOWED);
	assert_int_equal(it[2].result.count, 20);
	/* a cost above the limit: never */
	policy_test_rate_item(&it[0], "rcpt/b", 5, 3600, 6);
	assert_int_equal(mp_rate_check_items(store, it, 1, NOW, &error),
			 MP_RATE_LIMITED);
	assert_int_equal(it[0].result.retry_after_ms, UINT64_MAX);
	mp_rate_store_free(&store);
}

/* xorshift: the same sequence every run */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

static void test_same_answers_as_memory(void **state)
{
	struct mp_rate_store *redis = redis_new(2000), *memory = memory_new();
	static const char *const keys[] = { "k0", "k1", "k2", "k3" };
	/* windows in seconds, and limits, some huge (the script's long
	   division: prev * (W - elapsed) above 2^52) */
	static const uint64_t windows[] = { 1, 60, 3600, 86400,
					    (1ULL << 40) / 1000 };
	static const uint64_t limits[] = { 1, 3, 10, 1000, 1ULL << 40,
					   (1ULL << 52) - 1 };
	uint64_t now = NOW, window_of[4], limit_of[4];
	unsigned int differences = 0, limited = 0, allowed = 0;

	(void)state;
	for (int k = 0; k < 4; k++) {
		window_of[k] = windows[rnd(5)];
		limit_of[k] = limits[rnd(6)];
	}
	for (int step = 0; step < 3000; step++) {
		struct mp_rate_item a[4], b[4];
		const char *error = NULL;
		enum mp_rate_status sa, sb;
		size_t n = 1 + rnd(3), first = rnd(4);

		/* the clock: mostly forward, sometimes far, sometimes back */
		switch (rnd(10)) {
		case 0: now += rnd(3 * H); break;
		case 1: now -= rnd(5 * SEC); break;
		default: now += rnd(2 * SEC); break;
		}
		/* now and then a reload changes a key's window or limit */
		if (rnd(50) == 0)
			window_of[rnd(4)] = windows[rnd(5)];
		if (rnd(50) == 0)
			limit_of[rnd(4)] = limits[rnd(6)];
		for (size_t i = 0; i < n; i++) {
			size_t k = (first + i) % 4;
			uint64_t cost = limit_of[k] > 1000 ?
				rnd(1ULL << 38) : rnd(4);

			policy_test_rate_item(&a[i], keys[k], limit_of[k], window_of[k], cost);
			b[i] = a[i];
		}
		sa = mp_rate_check_items(memory, a, n, now, &error);
		sb = mp_rate_check_items(redis, b, n, now, &error);
		if (sb == MP_RATE_FAILED)
			fail_msg("step %d: redis failed: %s", step, error);
		if (sa != sb)
			differences++;
		for (size_t i = 0; i < n; i++) {
			if (a[i].status != b[i].status ||
			    a[i].result.count != b[i].result.count ||
			    a[i].result.retry_after_ms !=
			    b[i].result.retry_after_ms) {
				print_message("step %d key %s: memory %d %llu "
					      "%llu, redis %d %llu %llu\n",
					      step, a[i].key, a[i].status,
					      (unsigned long long)a[i].result.count,
					      (unsigned long long)a[i].result.retry_after_ms,
					      b[i].status,
					      (unsigned long long)b[i].result.count,
					      (unsigned long long)b[i].result.retry_after_ms);
				differences++;
			}
		}
		if (sa == MP_RATE_LIMITED)
			limited++;
		else
			allowed++;
	}
	assert_int_equal(differences, 0);
	/* the sequence does reach both answers */
	assert_true(limited > 100 && allowed > 100);
	mp_rate_store_free(&redis);
	mp_rate_store_free(&memory);
}

/* Two stores stand for two MTAs on one Redis: 8 threads each, one limit. */
#define HOST_THREADS 8
#define SHARED_LIMIT 500

static void *host_thread(void *arg)
{
	struct mp_rate_store *store = arg;
	struct mp_rate_spec rate = { SHARED_LIMIT, 3600 };
	uintptr_t allowed = 0;

	for (int i = 0; i < 150; i++) {
		const char *error = NULL;
		enum mp_rate_status s = mp_rate_check(store, "shared", &rate,
						      NOW, NULL, &error);

		if (s == MP_RATE_ALLOWED)
			allowed++;
		else if (s == MP_RATE_FAILED)
			return (void *)UINTPTR_MAX;
	}
	return (void *)allowed;
}

static void test_two_hosts_one_limit(void **state)
{
	struct mp_rate_store *hosts[2] = { redis_new(5000), redis_new(5000) };
	pthread_t th[2 * HOST_THREADS];
	uintptr_t total = 0;

	(void)state;
	for (int i = 0; i < 2 * HOST_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, host_thread,
						hosts[i % 2]), 0);
	for (int i = 0; i < 2 * HOST_THREADS; i++) {
		void *ret;

		pthread_join(th[i], &ret);
		assert_true((uintptr_t)ret != UINTPTR_MAX);
		total += (uintptr_t)ret;
	}
	/* 2400 tries against 500: exactly 500 got through */
	assert_int_equal(total, SHARED_LIMIT);
	mp_rate_store_free(&hosts[0]);
	mp_rate_store_free(&hosts[1]);
}

static void test_noscript(void **state)
{
	struct mp_rate_store *store = redis_new(0);
	struct mp_rate_spec rate = { 2, 60 };
	const char *error = NULL;

	(void)state;
	assert_int_equal(mp_rate_check(store, "n", &rate, NOW, NULL, &error),
			 MP_RATE_ALLOWED);
	raw_command("SCRIPT FLUSH");
	assert_int_equal(mp_rate_check(store, "n", &rate, NOW, NULL, &error),
			 MP_RATE_ALLOWED);
	assert_int_equal(mp_rate_check(store, "n", &rate, NOW, NULL, &error),
			 MP_RATE_LIMITED);
	mp_rate_store_free(&store);
}

static struct mp_rate_store *unix_new(const char *password, unsigned int db)
{
	struct mp_rate_redis_settings set;
	struct mp_rate_store *store = NULL;
	const char *error = NULL;

	memset(&set, 0, sizeof(set));
	set.unix_path = unix_path;
	set.password = password;
	set.db = db;
	set.key_prefix = "t:";
	if (mp_rate_store_redis_create(NULL, &set, &store, &error) < 0)
		fail_msg("redis create: %s", error);
	return store;
}

static void test_auth_unix_select(void **state)
{
	struct mp_rate_store *store;
	struct mp_rate_spec rate = { 1, 60 };
	const char *error = NULL;

	(void)state;
	/* no password, a wrong one: refused, and the message says AUTH or
	   NOAUTH but never the password */
	store = unix_new(NULL, 0);
	assert_int_equal(mp_rate_check(store, "u", &rate, NOW, NULL, &error),
			 MP_RATE_FAILED);
	assert_non_null(strstr(error, "unix:"));
	assert_non_null(strstr(error, "NOAUTH"));
	mp_rate_store_free(&store);
	store = unix_new("wrong", 0);
	assert_int_equal(mp_rate_check(store, "u", &rate, NOW, NULL, &error),
			 MP_RATE_FAILED);
	assert_non_null(strstr(error, "AUTH"));
	assert_null(strstr(error, "wrong"));
	mp_rate_store_free(&store);

	store = unix_new(PASSWORD, 3);
	assert_int_equal(mp_rate_check(store, "u", &rate, NOW, NULL, &error),
			 MP_RATE_ALLOWED);
	assert_int_equal(mp_rate_check(store, "u", &rate, NOW, NULL, &error),
			 MP_RATE_LIMITED);
	mp_rate_store_free(&store);
	/* the key went to db 3 */
	{
		struct timeval tv = { 1, 0 };
		redisContext *c = redisConnectUnixWithTimeout(unix_path, tv);
		redisReply *r;

		assert_non_null(c);
		r = redisCommand(c, "AUTH %s", PASSWORD);
		freeReplyObject(r);
		r = redisCommand(c, "EXISTS t:u");
		assert_int_equal(r->integer, 0);
		freeReplyObject(r);
		r = redisCommand(c, "SELECT 3");
		freeReplyObject(r);
		r = redisCommand(c, "EXISTS t:u");
		assert_int_equal(r->integer, 1);
		freeReplyObject(r);
		redisFree(c);
	}
}

/* A Redis that stops answering: the call fails at its deadline; when it
   answers again, so does the store. */
static void test_deadline(void **state)
{
	struct mp_rate_store *store = redis_new(200);
	struct mp_rate_spec rate = { 100, 60 };
	const char *error = NULL;

	(void)state;
	assert_int_equal(mp_rate_check(store, "d", &rate, NOW, NULL, &error),
			 MP_RATE_ALLOWED);
	assert_int_equal(kill(redis_pid, SIGSTOP), 0);
	assert_int_equal(mp_rate_check(store, "d", &rate, NOW, NULL, &error),
			 MP_RATE_FAILED);
	assert_non_null(strstr(error, "timed out"));
	assert_int_equal(kill(redis_pid, SIGCONT), 0);
	assert_int_equal(redis_wait_tcp(), 0);
	/* a new connection: the timed-out one was closed, so the late
	   reply is not read as this call's */
	assert_int_equal(mp_rate_check(store, "d", &rate, NOW, NULL, &error),
			 MP_RATE_ALLOWED);
	mp_rate_store_free(&store);
}

/* ---- a Redis that answers one byte at a time ----
   A fake server on its own thread: it answers AUTH and SELECT with +OK
   and SCRIPT LOAD with a SHA at once, except the command named by
   `trickle`, which it answers with a bulk string that never ends, one
   byte every 20 ms.  Each byte arrives well within any socket timeout,
   so only a deadline over the whole call ends it. */

struct trickle_server {
	int listen_fd;
	uint16_t port;
	const char *trickle;		/* "SCRIPT" or "EVALSHA" */
	pthread_t thread;
};

/* Reads one RESP command array; its first word (upper-cased, cut) into
   name.  -1 at EOF or on an error. */
static int trickle_read_command(FILE *in, char *name, size_t size)
{
	char line[64];
	long n, len;

	if (fgets(line, sizeof(line), in) == NULL || line[0] != '*')
		return -1;
	n = strtol(line + 1, NULL, 10);
	for (long i = 0; i < n; i++) {
		if (fgets(line, sizeof(line), in) == NULL || line[0] != '$')
			return -1;
		len = strtol(line + 1, NULL, 10);
		for (long j = 0; j < len + 2; j++) {
			int c = fgetc(in);

			if (c == EOF)
				return -1;
			if (i == 0 && j < len && (size_t)j + 1 < size) {
				name[j] = (char)(c >= 'a' && c <= 'z' ?
						 c - 'a' + 'A' : c);
				name[j + 1] = '\0';
			}
		}
	}
	return 0;
}

static void *trickle_thread(void *arg)
{
	struct trickle_server *ts = arg;

	for (;;) {
		int fd = accept(ts->listen_fd, NULL, NULL);
		FILE *in;
		char name[16];

		if (fd < 0)
			return NULL;
		in = fdopen(dup(fd), "r");
		while (in != NULL &&
		       trickle_read_command(in, name, sizeof(name)) == 0) {
			static const char sha[] = "$40\r\n"
				"0123456789abcdef0123456789abcdef01234567\r\n";

			if (strcmp(name, ts->trickle) == 0) {
				if (write(fd, "$1000000\r\n", 10) != 10)
					break;
				while (write(fd, "x", 1) == 1)
					sleep_ms(20);
				break;
			}
			if (strcmp(name, "SCRIPT") == 0) {
				if (write(fd, sha, sizeof(sha) - 1) < 0)
					break;
			} else if (write(fd, "+OK\r\n", 5) < 0) {
				break;
			}
		}
		if (in != NULL)
			fclose(in);
		close(fd);
	}
}

static void trickle_start(struct trickle_server *ts, const char *trickle)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ts->trickle = trickle;
	ts->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(ts->listen_fd >= 0);
	assert_int_equal(bind(ts->listen_fd, (struct sockaddr *)&sin,
			      sizeof(sin)), 0);
	assert_int_equal(getsockname(ts->listen_fd, (struct sockaddr *)&sin,
				     &len), 0);
	assert_int_equal(listen(ts->listen_fd, 8), 0);
	ts->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&ts->thread, NULL, trickle_thread,
					ts), 0);
}

struct trickle_call {
	struct mp_rate_store *store;
	enum mp_rate_status status;
	char error[320];
	bool done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *trickle_call_thread(void *arg)
{
	struct trickle_call *tc = arg;
	struct mp_rate_spec rate = { 100, 60 };
	const char *error = NULL;
	enum mp_rate_status status;

	status = mp_rate_check(tc->store, "t", &rate, NOW, NULL, &error);
	pthread_mutex_lock(&tc->lock);
	tc->status = status;
	snprintf(tc->error, sizeof(tc->error), "%s", error != NULL ? error : "");
	tc->done = true;
	pthread_cond_signal(&tc->cond);
	pthread_mutex_unlock(&tc->lock);
	return NULL;
}

/* The call against a trickling server fails: it must come back at all
   (the watchdog is 100 times the deadline; without one, the check waits
   for the end of a reply that never ends).  On that failure the test
   leaves the call, its store and the server behind. */
static void trickle_case(const char *trickle)
{
	struct trickle_server *ts = calloc(1, sizeof(*ts));
	struct trickle_call *tc = calloc(1, sizeof(*tc));
	struct mp_rate_redis_settings set;
	const char *error = NULL;
	struct timespec until;
	pthread_t thread;

	assert_non_null(ts);
	assert_non_null(tc);
	trickle_start(ts, trickle);
	memset(&set, 0, sizeof(set));
	set.host = "127.0.0.1";
	set.port = ts->port;
	set.timeout_ms = 200;
	pthread_mutex_init(&tc->lock, NULL);
	pthread_cond_init(&tc->cond, NULL);
	assert_int_equal(mp_rate_store_redis_create(NULL, &set, &tc->store,
						    &error), 0);
	assert_int_equal(pthread_create(&thread, NULL, trickle_call_thread,
					tc), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&tc->lock);
	while (!tc->done &&
	       pthread_cond_timedwait(&tc->cond, &tc->lock, &until) == 0)
		;
	pthread_mutex_unlock(&tc->lock);
	if (!tc->done)
		fail_msg("a Redis answering %s one byte at a time held the "
			 "call far past its 200 ms deadline", trickle);
	pthread_join(thread, NULL);
	assert_int_equal(tc->status, MP_RATE_FAILED);
	assert_non_null(strstr(tc->error, "timed out"));
	mp_rate_store_free(&tc->store);
	pthread_mutex_destroy(&tc->lock);
	pthread_cond_destroy(&tc->cond);
	free(tc);
	/* wakes the server's accept(); it ends */
	shutdown(ts->listen_fd, SHUT_RDWR);
	pthread_join(ts->thread, NULL);
	close(ts->listen_fd);
	free(ts);
}

static void test_deadline_trickle_reply(void **state)
{
	(void)state;
	trickle_case("EVALSHA");
}

static void test_deadline_trickle_connect(void **state)
{
	(void)state;
	trickle_case("SCRIPT");
}

/* Redis dies and comes back: FAILED while down, then counting again. */
static void test_reconnect(void **state)
{
	struct mp_rate_store *store = redis_new(300);
	struct mp_rate_spec rate = { 100, 60 };
	const char *error = NULL;
	enum mp_rate_status s = MP_RATE_FAILED;

	(void)state;
	assert_int_equal(mp_rate_check(store, "r", &rate, NOW, NULL, &error),
			 MP_RATE_ALLOWED);
	redis_stop(&redis_pid);
	assert_int_equal(mp_rate_check(store, "r", &rate, NOW, NULL, &error),
			 MP_RATE_FAILED);
	/* while down, calls fail at once with the last error */
	assert_int_equal(mp_rate_check(store, "r", &rate, NOW, NULL, &error),
			 MP_RATE_FAILED);
	assert_non_null(strstr(error, "127.0.0.1"));
	redis_pid = redis_start("tcp", tcp_port, NULL, NULL);
	assert_int_equal(redis_wait_tcp(), 0);
	/* the store retries within a second: wait for it, bounded */
	for (int i = 0; i < 100 && s != MP_RATE_ALLOWED; i++) {
		s = mp_rate_check(store, "r", &rate, NOW, NULL, &error);
		if (s != MP_RATE_ALLOWED)
			sleep_ms(50);
	}
	assert_int_equal(s, MP_RATE_ALLOWED);
	mp_rate_store_free(&store);
}

static void test_create_errors(void **state)
{
	struct mp_rate_redis_settings set;
	struct mp_rate_store *store = NULL;
	const char *error = NULL;
	struct mp_rate_item it;

	(void)state;
	memset(&set, 0, sizeof(set));
	assert_int_equal(mp_rate_store_redis_create(NULL, &set, &store,
						    &error), -1);
	set.host = "h";
	set.unix_path = "/p";
	assert_int_equal(mp_rate_store_redis_create(NULL, &set, &store,
						    &error), -1);
	set.unix_path = NULL;
	set.key_prefix = "0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789";
	assert_int_equal(mp_rate_store_redis_create(NULL, &set, &store,
						    &error), -1);
	/* limits the doubles cannot hold exactly are refused per call */
	store = redis_new(0);
	policy_test_rate_item(&it, "big", 1ULL << 52, 60, 1);
	assert_int_equal(mp_rate_check_items(store, &it, 1, NOW, &error),
			 MP_RATE_FAILED);
	assert_non_null(strstr(error, "2^52"));
	mp_rate_store_free(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_basic, test_setup),
		cmocka_unit_test_setup(test_all_or_nothing, test_setup),
		cmocka_unit_test_setup(test_same_answers_as_memory, test_setup),
		cmocka_unit_test_setup(test_two_hosts_one_limit, test_setup),
		cmocka_unit_test_setup(test_noscript, test_setup),
		cmocka_unit_test(test_auth_unix_select),
		cmocka_unit_test_setup(test_deadline, test_setup),
		cmocka_unit_test(test_deadline_trickle_reply),
		cmocka_unit_test(test_deadline_trickle_connect),
		cmocka_unit_test_setup(test_reconnect, test_setup),
		cmocka_unit_test(test_create_errors),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

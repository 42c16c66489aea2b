/* rate-redis.c: the shared rate store ("redis", over hiredis).
 *
 * One check is one round trip: EVALSHA of the script in
 * rate-redis-script.h with every key of the check, which Redis runs
 * atomically, so any number of hosts sharing one Redis enforce one limit
 * together.  The script's SHA1 comes from SCRIPT LOAD on each new
 * connection; a Redis that lost its script cache (SCRIPT FLUSH, a restart
 * behind a proxy) answers NOSCRIPT, and the call is sent again as EVAL
 * with the script on the same connection.
 *
 * Connections: a pool of blocking hiredis contexts, one per concurrent
 * call, up to max_connections; a call takes an idle one or opens one.
 * Every call has a deadline (timeout_ms): waiting for a free connection,
 * connecting, and every wait for the socket to send or receive count
 * against it (a reply that comes a byte at a time does not reset it).
 * A connection that failed or timed out is closed (a late
 * reply must not be read as the answer to the next call); the next call
 * opens a new one, which is how the store reconnects when Redis comes
 * back.  After a failed connect, calls fail at once for RETRY_MS with
 * the last error, so that a dead Redis costs one connect a second, not
 * one (with its timeout) per message.
 *
 * The hiredis calls used here exist in 0.14 (Debian 12) and 1.x
 * (Debian 13) alike.
 *
 * DIAGNOSTICS: errors name the store and the Redis address, never the
 * password. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "rate-private.h"
#include "rate-redis-script.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_DEFAULT_TIMEOUT_MS 250
#define REDIS_DEFAULT_CONNECTIONS 16
#define REDIS_RETRY_MS 1000
#define REDIS_DEFAULT_PREFIX "mprate:"
#define REDIS_MAX_PREFIX 64
#define REDIS_ERROR_MAX 320
/* "EVALSHA", sha, numkeys, keys, now, 3 per key */
#define REDIS_MAX_ARGS (4 + MP_RATE_MAX_ITEMS * 4)

struct redis_conn {
	redisContext *ctx;
	struct redis_conn *next;
	char sha[41];
};

struct redis_store {
	struct mp_rate_store store;
	char *host, *unix_path, *password, *prefix;
	size_t prefix_len;
	uint16_t port;
	unsigned int db, timeout_ms, max_connections;
	char address[300];	/* for messages: host:port or the path */

	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct redis_conn *idle;
	unsigned int open;	/* connections idle or in use */
	uint64_t no_connect_until_ms;	/* monotonic */
	char last_error[REDIS_ERROR_MAX];
};

static __thread char redis_error[REDIS_ERROR_MAX];

static const char *const error_oom = "redis rate store: out of memory";

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_to_timeval(uint64_t ms)
{
	struct timeval tv;

	if (ms == 0)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

static const char *store_error(struct redis_store *store, const char *what,
			       const char *detail)
{
	snprintf(redis_error, sizeof(redis_error),
		 "redis rate store %.100s: %.40s%s%.100s", store->address, what,
		 detail != NULL ? ": " : "", detail != NULL ? detail : "");
	return redis_error;
}

static char *str_dup(const struct mp_env *env, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = env->alloc(env->ctx, len);

	if (copy != NULL)
		memcpy(copy, s, len);
	return copy;
}

static void conn_free(const struct mp_env *env, struct redis_conn *conn)
{
	if (conn == NULL)
		return;
	if (conn->ctx != NULL)
		redisFree(conn->ctx);
	env->free(env->ctx, conn);
}

/* Waits until the connection's socket is ready for events, up to
   deadline_ms (monotonic): 1 ready, 0 the deadline passed, -1 an error. */
static int conn_wait(redisContext *ctx, short events, uint64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = { .fd = ctx->fd, .events = events };
		uint64_t now = monotonic_ms();
		int n;

		if (now >= deadline_ms)
			return 0;
		n = poll(&p, 1, deadline_ms - now > INT_MAX ? INT_MAX :
			 (int)(deadline_ms - now));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Sends one command and reads its whole reply before deadline_ms.  The
   socket timeouts bound each read and write, not the call: a Redis that
   answers a byte at a time would hold a blocking call for as long as it
   likes.  So every read waits in poll() for what is left of the
   deadline.  The reply (or NULL after a failure with *error_r: the
   connection is then unusable) is the caller's. */
static redisReply *conn_call(struct redis_store *store,
			     struct redis_conn *conn, const char *what,
			     int argc, const char **argv, const size_t *argvlen,
			     uint64_t deadline_ms, const char **error_r)
{
	redisContext *ctx = conn->ctx;
	void *reply = NULL;
	int done = 0, ready = 1;

	if (redisAppendCommandArgv(ctx, argc, argv, argvlen) != REDIS_OK)
		goto fail;
	/* a command fits the socket's buffer: write first, wait only when
	   it did not all go (one poll() less per check) */
	for (;;) {
		if (redisBufferWrite(ctx, &done) != REDIS_OK)
			goto fail;
		if (done)
			break;
		if ((ready = conn_wait(ctx, POLLOUT, deadline_ms)) <= 0)
			goto fail;
	}
	for (;;) {
		if (redisGetReplyFromReader(ctx, &reply) != REDIS_OK)
			goto fail;
		if (reply != NULL)
			return reply;
		if ((ready = conn_wait(ctx, POLLIN, deadline_ms)) <= 0 ||
		    redisBufferRead(ctx) != REDIS_OK)
			goto fail;
	}
fail:
	if (ready == 0 || (ctx->err == REDIS_ERR_IO &&
			   (errno == EAGAIN || errno == EWOULDBLOCK)))
		*error_r = store_error(store, "timed out", what);
	else
		*error_r = store_error(store, what, ready < 0 ?
				       strerror(errno) : ctx->errstr);
	return NULL;
}

/* Runs one command on a fresh connection and checks its reply's type;
   the reply (or NULL after a failure with *error_r) is the caller's. */
static redisReply *conn_command(struct redis_store *store,
				struct redis_conn *conn, int type,
				const char *what, int argc,
				const char **argv, const size_t *argvlen,
				uint64_t deadline_ms, const char **error_r)
{
	redisReply *reply = conn_call(store, conn, what, argc, argv, argvlen,
				      deadline_ms, error_r);

	if (reply == NULL)
		return NULL;
	if ((int)reply->type != type) {
		*error_r = store_error(store, what,
				       reply->type == REDIS_REPLY_ERROR ?
				       reply->str : "unexpected reply");
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

/* Opens a connection: connect, AUTH, SELECT, SCRIPT LOAD. */
static struct redis_conn *conn_open(struct redis_store *store,
				    uint64_t deadline_ms,
				    const char **error_r)
{
	const struct mp_env *env = store->store.env;
	uint64_t now_ms = monotonic_ms();
	struct timeval tv = ms_to_timeval(deadline_ms > now_ms ?
					  deadline_ms - now_ms : 1);
	struct redis_conn *conn;
	redisReply *reply;
	char db[16];

	conn = env->alloc(env->ctx, sizeof(*conn));
	if (conn == NULL) {
		*error_r = error_oom;
		return NULL;
	}
	if (store->unix_path != NULL)
		conn->ctx = redisConnectUnixWithTimeout(store->unix_path, tv);
	else
		conn->ctx = redisConnectWithTimeout(store->host, store->port,
						    tv);
	if (conn->ctx == NULL) {
		*error_r = store_error(store, "cannot connect",
				       "out of memory");
		goto fail;
	}
	if (conn->ctx->err != 0) {
		*error_r = store_error(store, "cannot connect",
				       conn->ctx->errstr);
		goto fail;
	}
	if (redisSetTimeout(conn->ctx, tv) != REDIS_OK) {
		*error_r = store_error(store, "cannot set a timeout",
				       conn->ctx->errstr);
		goto fail;
	}
	if (store->password != NULL) {
		const char *argv[] = { "AUTH", store->password };
		size_t argvlen[] = { 4, strlen(store->password) };

		reply = conn_command(store, conn, REDIS_REPLY_STATUS, "AUTH",
				     2, argv, argvlen, deadline_ms, error_r);
		if (reply == NULL)
			goto fail;
		freeReplyObject(reply);
	}
	if (store->db > 0) {
		const char *argv[] = { "SELECT", db };
		size_t argvlen[2];

		snprintf(db, sizeof(db), "%u", store->db);
		argvlen[0] = 6;
		argvlen[1] = strlen(db);
		reply = conn_command(store, conn, REDIS_REPLY_STATUS, "SELECT",
				     2, argv, argvlen, deadline_ms, error_r);
		if (reply == NULL)
			goto fail;
		freeReplyObject(reply);
	}
	{
		const char *argv[] = { "SCRIPT", "LOAD", MP_RATE_REDIS_SCRIPT };
		size_t argvlen[] = { 6, 4, sizeof(MP_RATE_REDIS_SCRIPT) - 1 };

		reply = conn_command(store, conn, REDIS_REPLY_STRING,
				     "SCRIPT LOAD", 3, argv, argvlen,
				     deadline_ms, error_r);
		if (reply == NULL)
			goto fail;
		if (reply->len != 40) {
			freeReplyObject(reply);
			*error_r = store_error(store, "SCRIPT LOAD",
					       "not a SHA1");
			goto fail;
		}
		memcpy(conn->sha, reply->str, 40);
		conn->sha[40] = '\0';
		freeReplyObject(reply);
	}
	return conn;
fail:
	conn_free(env, conn);
	return NULL;
}

/* Waits for a connection until deadline_ms: an idle one, or a new one
   while fewer than max_connections are open. */
static struct redis_conn *conn_get(struct redis_store *store,
				   uint64_t deadline_ms, const char **error_r)
{
	struct redis_conn *conn;
	uint64_t now_ms;

	pthread_mutex_lock(&store->lock);
	for (;;) {
		if (store->idle != NULL) {
			conn = store->idle;
			store->idle = conn->next;
			pthread_mutex_unlock(&store->lock);
			return conn;
		}
		now_ms = monotonic_ms();
		if (now_ms < store->no_connect_until_ms) {
			snprintf(redis_error, sizeof(redis_error),
				 "%.260s (next try within 1 s)",
				 store->last_error);
			*error_r = redis_error;
			pthread_mutex_unlock(&store->lock);
			return NULL;
		}
		if (store->open < store->max_connections)
			break;
		if (now_ms >= deadline_ms) {
			*error_r = store_error(store, "timed out",
					       "every connection is in use");
			pthread_mutex_unlock(&store->lock);
			return NULL;
		} else {
			struct timespec ts;

			ts.tv_sec = (time_t)(deadline_ms / 1000);
			ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
			(void)pthread_cond_timedwait(&store->freed,
						     &store->lock, &ts);
		}
	}
	store->open++;
	pthread_mutex_unlock(&store->lock);

	conn = conn_open(store, deadline_ms, error_r);
	if (conn == NULL) {
		pthread_mutex_lock(&store->lock);
		store->open--;
		store->no_connect_until_ms = monotonic_ms() + REDIS_RETRY_MS;
		snprintf(store->last_error, sizeof(store->last_error), "%s",
			 *error_r);
		pthread_cond_signal(&store->freed);
		pthread_mutex_unlock(&store->lock);
	}
	return conn;
}

/* Returns a connection to the pool, or closes it after a failure. */
static void conn_put(struct redis_store *store, struct redis_conn *conn,
		     bool broken)
{
	pthread_mutex_lock(&store->lock);
	if (broken) {
		store->open--;
	} else {
		conn->next = store->idle;
		store->idle = conn;
	}
	pthread_cond_signal(&store->freed);
	pthread_mutex_unlock(&store->lock);
	if (broken)
		conn_free(store->store.env, conn);
}

/* Reads the script's reply into the items; -1 with *error_r when it is
   not the expected shape. */
static int reply_parse(struct redis_store *store, const redisReply *reply,
		       struct mp_rate_op *ops, size_t count,
		       enum mp_rate_status *status_r, const char **error_r)
{
	size_t i;

	if (reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 1 + 3 * count) {
		*error_r = store_error(store, "unexpected script reply",
				       reply->type == REDIS_REPLY_ERROR ?
				       reply->str : NULL);
		return -1;
	}
	for (i = 0; i < reply->elements; i++) {
		if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
			*error_r = store_error(store, "unexpected script reply",
					       "not an integer");
			return -1;
		}
	}
	*status_r = reply->element[0]->integer == 1 ? MP_RATE_ALLOWED :
		MP_RATE_LIMITED;
	for (i = 0; i < count; i++) {
		struct mp_rate_item *item = ops[i].item;
		long long fits = reply->element[1 + 3 * i]->integer;
		long long n = reply->element[2 + 3 * i]->integer;
		long long retry = reply->element[3 + 3 * i]->integer;

		item->status = fits == 1 ? MP_RATE_ALLOWED : MP_RATE_LIMITED;
		item->result.count = n < 0 ? 0 : (uint64_t)n;
		item->result.retry_after_ms = retry < 0 ? UINT64_MAX :
			(uint64_t)retry;
	}
	return 0;
}

static enum mp_rate_status
redis_check(struct mp_rate_store *_store, struct mp_rate_op *ops,
	    size_t count, uint64_t now_ms, const char **error_r)
{
	struct redis_store *store = (struct redis_store *)_store;
	const char *argv[REDIS_MAX_ARGS];
	size_t argvlen[REDIS_MAX_ARGS];
	char nums[1 + 3 * MP_RATE_MAX_ITEMS][24];
	char numkeys[24];
	char keys[MP_RATE_MAX_ITEMS][REDIS_MAX_PREFIX + MP_RATE_MAX_KEY_LEN + 1];
	uint64_t deadline_ms = monotonic_ms() + store->timeout_ms;
	enum mp_rate_status status = MP_RATE_FAILED;
	struct redis_conn *conn;
	redisReply *reply;
	size_t i, argc = 0;

	for (i = 0; i < count; i++) {
		if (ops[i].limit >= MP_RATE_MAX_EXACT ||
		    ops[i].window_ms >= MP_RATE_MAX_EXACT ||
		    ops[i].cost >= MP_RATE_MAX_EXACT) {
			*error_r = "redis rate store: a limit, cost or window "
				"of 2^52 or more cannot be counted exactly";
			return MP_RATE_FAILED;
		}
	}
	if (now_ms >= MP_RATE_MAX_EXACT) {
		*error_r = "redis rate store: clock beyond 2^52 ms";
		return MP_RATE_FAILED;
	}

	argv[argc] = "EVALSHA"; argvlen[argc++] = 7;
	argc++;	/* the SHA, per connection */
	snprintf(numkeys, sizeof(numkeys), "%zu", count);
	argv[argc] = numkeys; argvlen[argc++] = strlen(numkeys);
	for (i = 0; i < count; i++) {
		memcpy(keys[i], store->prefix, store->prefix_len);
		memcpy(keys[i] + store->prefix_len, ops[i].key, ops[i].key_len);
		argv[argc] = keys[i];
		argvlen[argc++] = store->prefix_len + ops[i].key_len;
	}
	snprintf(nums[0], sizeof(nums[0]), "%" PRIu64, now_ms);
	argv[argc] = nums[0]; argvlen[argc++] = strlen(nums[0]);
	for (i = 0; i < count; i++) {
		uint64_t v[3] = { ops[i].limit, ops[i].window_ms, ops[i].cost };

		for (unsigned int j = 0; j < 3; j++) {
			char *num = nums[1 + 3 * i + j];

			snprintf(num, sizeof(nums[0]), "%" PRIu64, v[j]);
			argv[argc] = num;
			argvlen[argc++] = strlen(num);
		}
	}

	conn = conn_get(store, deadline_ms, error_r);
	if (conn == NULL)
		return MP_RATE_FAILED;
	{
		uint64_t now = monotonic_ms();
		struct timeval tv = ms_to_timeval(deadline_ms > now ?
						  deadline_ms - now : 1);

		if (redisSetTimeout(conn->ctx, tv) != REDIS_OK) {
			*error_r = store_error(store, "cannot set a timeout",
					       conn->ctx->errstr);
			conn_put(store, conn, true);
			return MP_RATE_FAILED;
		}
	}
	argv[1] = conn->sha;
	argvlen[1] = 40;
	reply = conn_call(store, conn, "EVALSHA", (int)argc, argv, argvlen,
			  deadline_ms, error_r);
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		/* the script cache was flushed: EVAL loads it again */
		freeReplyObject(reply);
		argv[0] = "EVAL";
		argvlen[0] = 4;
		argv[1] = MP_RATE_REDIS_SCRIPT;
		argvlen[1] = sizeof(MP_RATE_REDIS_SCRIPT) - 1;
		reply = conn_call(store, conn, "EVAL", (int)argc, argv,
				  argvlen, deadline_ms, error_r);
	}
	if (reply == NULL) {
		conn_put(store, conn, true);
		return MP_RATE_FAILED;
	}
	if (reply_parse(store, reply, ops, count, &status, error_r) < 0)
		status = MP_RATE_FAILED;
	freeReplyObject(reply);
	conn_put(store, conn, false);
	return status;
}

static void redis_free(struct mp_rate_store *_store)
{
	struct redis_store *store = (struct redis_store *)_store;
	const struct mp_env *env = _store->env;

	while (store->idle != NULL) {
		struct redis_conn *conn = store->idle;

		store->idle = conn->next;
		conn_free(env, conn);
	}
	pthread_cond_destroy(&store->freed);
	pthread_mutex_destroy(&store->lock);
	env->free(env->ctx, store->host);
	env->free(env->ctx, store->unix_path);
	if (store->password != NULL) {
		explicit_bzero(store->password, strlen(store->password));
		env->free(env->ctx, store->password);
	}
	env->free(env->ctx, store->prefix);
	env->free(env->ctx, store);
}

static const struct mp_rate_store_vfuncs redis_vfuncs = {
	.name = "redis",
	.check = redis_check,
	.free = redis_free,
};

int mp_rate_store_redis_create(const struct mp_env *env,
			       const struct mp_rate_redis_settings *set,
			       struct mp_rate_store **store_r,
			       const char **error_r)
{
	struct redis_store *store;
	pthread_condattr_t attr;
	const char *prefix;

	env = mp_env_or_default(env);
	if (set == NULL || (set->host == NULL) == (set->unix_path == NULL) ||
	    (set->host != NULL && set->host[0] == '\0') ||
	    (set->unix_path != NULL && set->unix_path[0] == '\0')) {
		*error_r = "redis rate store: give a host or a unix socket path";
		return -1;
	}
	prefix = set->key_prefix != NULL ? set->key_prefix :
		REDIS_DEFAULT_PREFIX;
	if (strlen(prefix) > REDIS_MAX_PREFIX) {
		*error_r = "redis rate store: key prefix longer than 64 bytes";
		return -1;
	}
	store = env->alloc(env->ctx, sizeof(*store));
	if (store == NULL) {
		*error_r = error_oom;
		return -1;
	}
	store->store.v = &redis_vfuncs;
	store->store.env = env;
	store->port = set->port != 0 ? set->port : REDIS_DEFAULT_PORT;
	store->db = set->db;
	store->timeout_ms = set->timeout_ms != 0 ? set->timeout_ms :
		REDIS_DEFAULT_TIMEOUT_MS;
	store->max_connections = set->max_connections != 0 ?
		set->max_connections : REDIS_DEFAULT_CONNECTIONS;
	store->prefix_len = strlen(prefix);
	store->prefix = str_dup(env, prefix);
	if (set->host != NULL) {
		store->host = str_dup(env, set->host);
		snprintf(store->address, sizeof(store->address),
			 strchr(set->host, ':') != NULL ? "[%.255s]:%u" :
			 "%.255s:%u", set->host, store->port);
	} else {
		store->unix_path = str_dup(env, set->unix_path);
		snprintf(store->address, sizeof(store->address), "unix:%.280s",
			 set->unix_path);
	}
	if (set->password != NULL)
		store->password = str_dup(env, set->password);
	if (store->prefix == NULL ||
	    (store->host == NULL && store->unix_path == NULL) ||
	    (set->password != NULL && store->password == NULL)) {
		env->free(env->ctx, store->prefix);
		env->free(env->ctx, store->host);
		env->free(env->ctx, store->unix_path);
		env->free(env->ctx, store->password);
		env->free(env->ctx, store);
		*error_r = error_oom;
		return -1;
	}
	pthread_mutex_init(&store->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&store->freed, &attr);
	pthread_condattr_destroy(&attr);
	*store_r = &store->store;
	return 0;
}

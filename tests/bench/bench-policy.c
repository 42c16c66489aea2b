/* bench-policy.c: how fast a policy loads and answers (core/policy-*.c).
 *
 * 1. Parse + compile a generated file of 10,000 user blocks and 1,000
 *    domain blocks, each user and domain with a pop3_retention and a
 *    folder_quota block (target: < 20 ms).
 * 2. Median nanoseconds per lookup, for files of 10 to 10,000 user
 *    blocks: a user's retention, a user's folder rule for a nested
 *    folder (mp_policy_folder_match, with '/' and with Maildir++ '.'),
 *    a listener by port, a sender check (login_domain), a login's rate
 *    limits on a listener whose rate_map has an entry per user block and
 *    per domain block (mp_listener_limits), and what a plugin does once
 *    per session: a user policy made, one userdb rule field applied, one
 *    folder matched, freed (targets: < 200 ns for the lookups, and flat
 *    as the file grows).
 * 3. The same parse with that rate_map of 10,000 + 1,000 entries.
 *
 * Absolute figures depend on the machine, so each is also printed as a
 * ratio to an anchor measured in the same run: one FNV-1a hash of the
 * same user strings (what any lookup must at least do: read the key). */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailpolicy/policy.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define BATCH 1000		/* lookups per timed batch */
#define BATCHES 301		/* batches per figure; the median is kept */
#define LOAD_RUNS 15

static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

struct text {
	char *data;
	size_t len, size;
};

static void append(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(struct text *t, const char *fmt, ...)
{
	va_list args;
	int n;

	for (;;) {
		va_start(args, fmt);
		n = vsnprintf(t->data + t->len, t->size - t->len, fmt, args);
		va_end(args);
		if (n >= 0 && (size_t)n < t->size - t->len)
			break;
		t->size *= 2;
		t->data = realloc(t->data, t->size);
		if (t->data == NULL)
			abort();
	}
	t->len += (size_t)n;
}

/* users user blocks (each with pop3_retention and folder_quota), over
   users / 10 domains that have blocks of both kinds too. */
/* A rate_map with an entry per user and per domain of generate(users),
   written to a temporary file whose path goes to path (64 bytes). */
static void write_rate_map(unsigned int users, char *path)
{
	unsigned int domains = users / 10 > 0 ? users / 10 : 1, i;
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/bench-policy-rates-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < domains; i++)
		fprintf(f, "@d%u.example rate_domain=%u/1h %u/1d "
			"rate_login=%u/1h\n", i, i + 100, i + 1000, i % 50 + 1);
	for (i = 0; i < users; i++)
		fprintf(f, "user%u@d%u.example rate_login=%u/1h "
			"rate_login_recipients=%u/1d\n", i, i % domains,
			i % 1000 + 1, i % 1000 + 10);
	if (fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* map: the rate_map of the submission listener, or NULL for none. */
static struct text generate(unsigned int users, const char *map)
{
	unsigned int domains = users / 10 > 0 ? users / 10 : 1, i;
	struct text t = { malloc(1 << 20), 0, 1 << 20 };

	append(&t, "pop3_retention {\n  keep_after_retrieval = 30d\n"
		   "  on_dele = defer 7d\n  on_retrieve = seen\n"
		   "  max_retained_size = 500M\n}\n"
		   "folder_quota {\n  folder Trash {\n    storage = 100M\n  }\n"
		   "  folder Archive {\n    storage = 2G\n"
		   "    messages = 50000\n    scope = subtree\n  }\n"
		   "  folder \"Projects/*\" {\n    storage = 1G\n  }\n}\n"
		   "listener mx {\n  ports = 25\n  auth = forbid\n}\n"
		   "listener submission {\n  ports = 587 26\n"
		   "  auth = require\n  rate_login = 200/1h 1000/1d\n"
		   "  sender = login_domain\n}\n"
		   "listener submissions {\n  ports = 465\n}\n");
	if (map != NULL)
		append(&t, "listener limited {\n  ports = 2525\n"
			   "  auth = require\n  rate_login = 200/1h 1000/1d\n"
			   "  rate_client_ip = 5000/1d\n  rate_map = %s\n}\n",
		       map);
	for (i = 0; i < domains; i++) {
		append(&t, "pop3_retention domain d%u.example {\n"
			   "  keep_after_retrieval = %ud\n  on_dele = expunge\n}\n"
			   "folder_quota domain d%u.example {\n"
			   "  folder Archive {\n    storage = 5G\n  }\n}\n",
		       i, i % 300 + 1, i);
	}
	for (i = 0; i < users; i++) {
		append(&t, "pop3_retention user user%u@d%u.example {\n"
			   "  keep_after_retrieval = %uh\n}\n"
			   "folder_quota user user%u@d%u.example {\n"
			   "  folder \"Lists/%%\" {\n    storage = %uM\n  }\n"
			   "  folder Archive {\n    messages = 0\n  }\n}\n",
		       i, i % domains, i % 1000 + 1, i, i % domains, i % 50 + 1);
	}
	return t;
}

static struct mp_policy *load(const struct text *t)
{
	struct mp_policy *policy;
	struct mp_error error;

	if (mp_policy_load_string(NULL, "bench", t->data, t->len, &policy,
				  &error) < 0) {
		fprintf(stderr, "%s\n", error.text);
		exit(1);
	}
	return policy;
}

static void bench_load_text(const struct text *t, const char *what)
{
	uint64_t runs[LOAD_RUNS], start;
	struct mp_policy *policy;
	size_t i, lines = 0;

	for (i = 0; i < LOAD_RUNS; i++) {
		start = now_ns();
		policy = load(t);
		runs[i] = now_ns() - start;
		mp_policy_unref(&policy);
	}
	for (i = 0; i < t->len; i++)
		lines += t->data[i] == '\n';
	printf("parse+compile, 10,000 user + 1,000 domain blocks (x2 sections)%s, "
	       "%zu KiB, %zu lines:\n", what, t->len / 1024, lines);
	qsort(runs, LOAD_RUNS, sizeof(runs[0]), cmp_u64);
	printf("  median %.2f ms, best %.2f ms (target < 20 ms)\n\n",
	       runs[LOAD_RUNS / 2] / 1e6, runs[0] / 1e6);
}

static void bench_load(void)
{
	struct text t = generate(10000, NULL);
	char map[64];

	bench_load_text(&t, "");
	free(t.data);
	write_rate_map(10000, map);
	t = generate(10000, map);
	bench_load_text(&t, " + a rate_map of 11,000 entries");
	free(t.data);
	unlink(map);
}

/* ---- lookups ---- */

#define USER_POOL 4096

struct lookup_ctx {
	const struct mp_policy *policy;
	char users[USER_POOL][48];
	size_t user_len[USER_POOL];
};

enum lookup_kind {
	LOOKUP_ANCHOR,
	LOOKUP_RETENTION,
	LOOKUP_FOLDER,
	LOOKUP_FOLDER_DOT,
	LOOKUP_PORT,
	LOOKUP_SENDER,
	LOOKUP_LIMITS,
	LOOKUP_SESSION,
	LOOKUP_COUNT
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static uint64_t run_batch(const struct lookup_ctx *ctx, enum lookup_kind kind,
			  unsigned int *next)
{
	static const uint16_t ports[] = { 25, 587, 465, 26, 2525 };
	const struct mp_listener *submission =
		mp_policy_listener_find(ctx->policy, "submission", 0);
	const struct mp_listener *limited =
		mp_policy_listener_find(ctx->policy, "limited", 0);
	struct mp_limits limits;
	struct mp_folder_match match;
	struct mp_user_policy *up;
	struct mp_retention r;
	uint64_t acc = 0, start;
	const char *user, *error;
	unsigned int i, j;

	start = now_ns();
	for (i = 0; i < BATCH; i++) {
		j = (*next)++ % USER_POOL;
		user = ctx->users[j];
		switch (kind) {
		case LOOKUP_ANCHOR:
			acc += fnv1a(user);
			break;
		case LOOKUP_RETENTION:
			mp_policy_retention(ctx->policy, user, &r);
			acc += r.keep_after_retrieval;
			break;
		case LOOKUP_FOLDER:
			acc += mp_policy_folder_match(ctx->policy, user,
						      "Archive/2024/Q1", '/',
						      &match, 1);
			acc += match.rule.storage;
			break;
		case LOOKUP_FOLDER_DOT:
			acc += mp_policy_folder_match(ctx->policy, user,
						      "Archive.2024.Q1", '.',
						      &match, 1);
			acc += match.rule.storage;
			break;
		case LOOKUP_PORT:
			acc += (uintptr_t)mp_policy_listener_find(
				ctx->policy, NULL, ports[j % N_ELEMENTS(ports)]);
			break;
		case LOOKUP_SENDER:
			acc += mp_listener_sender_allowed(ctx->policy,
							  submission, user,
							  "sales+q3@d7.example",
							  &error);
			break;
		case LOOKUP_LIMITS:
			acc += mp_listener_limits(ctx->policy, limited, user,
						  &limits);
			acc += limits.limit[MP_LIMIT_LOGIN]->windows[0].count;
			break;
		case LOOKUP_SESSION:
			/* the policy is the caller's; mp_user_policy_new
			   takes a reference of its own */
			if (mp_user_policy_new(NULL, (struct mp_policy *)
					       ctx->policy, user, &up) < 0)
				abort();
			acc += (uint64_t)mp_user_policy_set_field(
				up, "folder_quota_rule", "Archive:scope=folder",
				&error);
			acc += mp_user_policy_folder_match(up, "Archive/2024/Q1",
							   '/', &match, 1);
			mp_user_policy_free(&up);
			break;
		case LOOKUP_COUNT:
			break;
		}
	}
	sink += acc;
	return now_ns() - start;
}

static void bench_lookups(void)
{
	static const unsigned int sizes[] = { 10, 100, 1000, 10000 };
	static const char *const names[] = {
		"anchor: FNV-1a of the user", "user retention",
		"user + folder (Archive/2024/Q1)",
		"same, Maildir++ (Archive.2024.Q1)", "listener by port",
		"sender check (login_domain)",
		"limits of a login (rate_map)",
		"session: user policy + field + match",
	};
	static uint64_t figures[N_ELEMENTS(sizes)][LOOKUP_COUNT];
	uint64_t batches[BATCHES];
	struct lookup_ctx *ctx = calloc(1, sizeof(*ctx));
	struct mp_policy *policy;
	unsigned int s, k, b, i, next, users;
	struct text t;
	char map[64];

	for (s = 0; s < N_ELEMENTS(sizes); s++) {
		users = sizes[s];
		write_rate_map(users, map);
		t = generate(users, map);
		policy = load(&t);
		unlink(map);
		ctx->policy = policy;
		/* users with blocks, users of domains with blocks, users of
		   no block, mixed cases: a realistic mix of hits and misses */
		srand(42);
		for (i = 0; i < USER_POOL; i++) {
			unsigned int u = (unsigned int)rand() % users;
			unsigned int d = u % (users / 10 > 0 ? users / 10 : 1);

			switch (i % 4) {
			case 0:
			case 1:
				snprintf(ctx->users[i], sizeof(ctx->users[i]),
					 "user%u@d%u.example", u, d);
				break;
			case 2:
				snprintf(ctx->users[i], sizeof(ctx->users[i]),
					 "other%u@D%u.Example", u, d);
				break;
			default:
				snprintf(ctx->users[i], sizeof(ctx->users[i]),
					 "someone%u@elsewhere.example", u);
				break;
			}
		}
		for (k = 0; k < LOOKUP_COUNT; k++) {
			next = 0;
			for (b = 0; b < 20; b++)	/* warm up */
				run_batch(ctx, k, &next);
			for (b = 0; b < BATCHES; b++)
				batches[b] = run_batch(ctx, k, &next);
			figures[s][k] = median(batches, BATCHES);
		}
		mp_policy_unref(&policy);
		free(t.data);
	}

	printf("median ns per lookup (ratio to the anchor of the same size); "
	       "users: 1/2 own block, 1/4 domain block only, 1/4 default\n"
	       "(the same for rate_map entries)\n");
	printf("%-34s", "user blocks in the file:");
	for (s = 0; s < N_ELEMENTS(sizes); s++)
		printf("%16u", sizes[s]);
	printf("\n");
	for (k = 0; k < LOOKUP_COUNT; k++) {
		printf("%-34s", names[k]);
		for (s = 0; s < N_ELEMENTS(sizes); s++) {
			double ns = (double)figures[s][k] / BATCH;
			double anchor = (double)figures[s][LOOKUP_ANCHOR] / BATCH;
			char cell[32];

			if (k == LOOKUP_ANCHOR)
				snprintf(cell, sizeof(cell), "%.1f", ns);
			else
				snprintf(cell, sizeof(cell), "%.1f (%.1fx)", ns,
					 ns / anchor);
			printf("%16s", cell);
		}
		printf("\n");
	}
	printf("(targets: < 200 ns median for lookups, flat across sizes; the "
	       "session row allocates)\n");
	free(ctx);
}

int main(void)
{
	bench_load();
	bench_lookups();
	return 0;
}

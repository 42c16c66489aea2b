/* policy-ratemap.c: per-login and per-domain rate limits from a file
 * (`rate_map = FILE` in a listener), for the exceptions a hosting panel
 * manages (a newsletter account, a trusted relay, a customer's domain),
 * and the lookup that gives a login its effective limits.
 *
 * A rate map is a word file (policy-listfile.c), one entry per line: a
 * login or an @domain, then the rate keys it sets, written as in a
 * listener block with `=` and no blanks around it; the words after a
 * KEY=RATE that have no `=` are further windows of that key:
 *
 *     # login or @domain       limits
 *     newsletter@example.com   rate_login=5000/1d rate_login_recipients=50000/1d
 *     @example.com             rate_domain=2000/1h 20000/1d rate_login=300/1h
 *     relay                    rate_login=unlimited rate_client_ip=unlimited
 *
 * The map loads with the policy, whole or not at all ("MAP:LINE:COL:
 * reason (named at POLICY:LINE)"), is part of its staleness, and is read
 * once per load however many listeners name it.  An entry is listed
 * once, a key once per entry.  The domain keys (rate_domain,
 * rate_domain_recipients) are the domain's: only an @domain entry (or
 * the listener) sets them, so that all logins of a domain share one
 * counter under one limit.
 *
 * Lookups (mp_listener_limits()): per key, the login's entry, else its
 * @domain entry, else the listener block.  Logins compare as everywhere
 * in the language: local part exactly, domain case-insensitively. */

#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "policy-private.h"

struct policy_rate_entry {
	const char *name;	/* login or "@domain", domain lower-cased */
	size_t len;
	size_t at;		/* login: its last '@' (len: none); domain: 0 */
	uint64_t hash;
	unsigned int line;
	/* the keys the entry sets (NULL: not set), by enum mp_limit_key */
	const struct mp_limit *limit[MP_LIMIT_KEY_COUNT];
};

struct policy_rate_map {
	const char *path;
	struct policy_htable logins;	/* of login entries */
	struct policy_htable domains;	/* of @domain entries, without '@' */
	unsigned int window_keys;	/* bit per key some entry gives a
					   window */
	struct policy_rate_map *next;	/* every map of the policy */
};

/* What `rate_login=unlimited` points to. */
static const struct mp_limit no_limit;

static size_t last_at(const char *s, size_t len)
{
	size_t i;

	for (i = len; i > 0; i--) {
		if (s[i - 1] == '@')
			return i - 1;
	}
	return len;
}

static const char *limit_key_name_u(unsigned int key)
{
	return mp_limit_key_name((enum mp_limit_key)key);
}

/* ---- lookups ---- */

static uint64_t login_hash(const struct mp_policy *policy, const char *login,
			   size_t len, size_t at)
{
	return mp_siphash13_fold(policy->hash_key, login, len, at + 1);
}

static uint64_t domain_hash(const struct mp_policy *policy, const char *domain,
			    size_t len)
{
	return mp_siphash13_fold(policy->hash_key, domain, len, 0);
}

static const struct policy_rate_entry *
find_login(const struct mp_policy *policy, const struct policy_rate_map *map,
	   const char *login, size_t len, size_t at)
{
	const struct policy_rate_entry *entry;
	size_t pos = 0;
	uint64_t hash;

	if (map->logins.count == 0)
		return NULL;
	hash = login_hash(policy, login, len, at);
	while ((entry = policy_htable_next(&map->logins, hash, &pos)) != NULL) {
		if (entry->len == len && entry->at == at &&
		    memcmp(entry->name, login, at) == 0 &&
		    mp_ascii_memcaseeq(entry->name + at, login + at, len - at))
			return entry;
	}
	return NULL;
}

static const struct policy_rate_entry *
find_domain(const struct mp_policy *policy, const struct policy_rate_map *map,
	    const char *domain, size_t len)
{
	const struct policy_rate_entry *entry;
	size_t pos = 0;
	uint64_t hash;

	if (map->domains.count == 0)
		return NULL;
	hash = domain_hash(policy, domain, len);
	while ((entry = policy_htable_next(&map->domains, hash,
					   &pos)) != NULL) {
		if (entry->len == len + 1 &&
		    mp_ascii_memcaseeq(entry->name + 1, domain, len))
			return entry;
	}
	return NULL;
}

bool policy_rate_map_limits(const struct policy_rate_map *map,
			    enum mp_limit_key key)
{
	return (map->window_keys & (1u << key)) != 0;
}

size_t mp_listener_limits(const struct mp_policy *policy,
			  const struct mp_listener *listener,
			  const char *login, struct mp_limits *limits_r)
{
	const struct policy_listener *pl;
	const struct policy_rate_entry *own = NULL, *dom = NULL, *entry;
	const struct mp_origin *origin;
	size_t len, at, windows = 0;
	unsigned int k;

	pl = listener->rate_map == NULL ? NULL :
		policy_listener_of(policy, listener);
	if (pl != NULL && pl->rate_map != NULL && login != NULL &&
	    login[0] != '\0') {
		len = strlen(login);
		at = last_at(login, len);
		own = find_login(policy, pl->rate_map, login, len, at);
		if (at + 1 < len)
			dom = find_domain(policy, pl->rate_map, login + at + 1,
					  len - at - 1);
	}
	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		struct mp_limit_origin *o = &limits_r->origin[k];

		entry = own != NULL && own->limit[k] != NULL ? own :
			dom != NULL && dom->limit[k] != NULL ? dom : NULL;
		if (entry != NULL) {
			limits_r->limit[k] = entry->limit[k];
			o->source = entry == own ? MP_LIMIT_FROM_LOGIN_ENTRY :
				MP_LIMIT_FROM_DOMAIN_ENTRY;
			o->file = pl->rate_map->path;
			o->line = entry->line;
			o->entry = entry->name;
		} else {
			origin = &listener->origin[MP_LISTENER_RATE_LOGIN + k];
			limits_r->limit[k] = &listener->limits[k];
			o->entry = NULL;
			if (origin->scope == MP_ORIGIN_BUILTIN) {
				o->source = MP_LIMIT_FROM_BUILTIN;
				o->file = NULL;
				o->line = 0;
			} else {
				o->source = MP_LIMIT_FROM_LISTENER;
				o->file = policy->name;
				o->line = origin->line;
			}
		}
		windows += limits_r->limit[k]->window_count;
	}
	return windows;
}

bool mp_listener_has_limits(const struct mp_policy *policy,
			    const struct mp_listener *listener)
{
	const struct policy_listener *pl;
	unsigned int k;

	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		if (listener->limits[k].window_count > 0)
			return true;
	}
	if (listener->rate_map == NULL)
		return false;
	pl = policy_listener_of(policy, listener);
	return pl != NULL && pl->rate_map != NULL &&
		pl->rate_map->window_keys != 0;
}

/* ---- loading ---- */

struct map_parse {
	struct mp_policy *policy;
	struct policy_errctx *ctx;	/* the map's */
	struct policy_rate_map *map;
	const struct policy_token *map_key;	/* "rate_map", for messages */
};

static int entry_error(struct map_parse *mp, const struct policy_token *word,
		       const char *error)
{
	return policy_word_error(mp->ctx, mp->map_key, word, error);
}

/* A new entry for the first word of a line. */
static int entry_new(struct map_parse *mp, const struct policy_token *word,
		     struct policy_rate_entry **entry_r)
{
	struct mp_policy *policy = mp->policy;
	const struct policy_rate_entry *old;
	struct policy_rate_entry *entry;
	const char *error;
	char buf[80];
	bool in_domain;
	char *name;
	size_t i;

	if (memchr(word->str, '=', word->len) != NULL) {
		return entry_error(mp, word, "missing the login or @domain "
				   "before the limits");
	}
	if (word->str[0] == '@') {
		if (word->len == 1)
			return entry_error(mp, word, "missing the domain after "
					   "'@'");
		if (policy_check_domain(word->str + 1, word->len - 1,
					&error) < 0)
			return entry_error(mp, word, error);
		old = find_domain(policy, mp->map, word->str + 1,
				  word->len - 1);
	} else {
		if (policy_check_user(word->str, word->len, &error,
				      &in_domain) < 0)
			return entry_error(mp, word, error);
		old = find_login(policy, mp->map, word->str, word->len,
				 last_at(word->str, word->len));
	}
	if (old != NULL) {
		snprintf(buf, sizeof(buf), "listed twice (first at line %u)",
			 old->line);
		return entry_error(mp, word, buf);
	}

	entry = policy_arena_alloc(&policy->arena, sizeof(*entry));
	name = policy_arena_strndup(&policy->arena, word->str, word->len);
	if (entry == NULL || name == NULL)
		return policy_error_oom(mp->ctx);
	entry->len = word->len;
	entry->line = word->line;
	if (name[0] == '@') {
		entry->at = 0;
		for (i = 1; i < entry->len; i++)
			name[i] = (char)mp_ascii_tolower((unsigned char)name[i]);
		entry->hash = domain_hash(policy, name + 1, entry->len - 1);
	} else {
		entry->at = last_at(name, entry->len);
		for (i = entry->at; i < entry->len; i++)
			name[i] = (char)mp_ascii_tolower((unsigned char)name[i]);
		entry->hash = login_hash(policy, name, entry->len, entry->at);
	}
	entry->name = name;
	if (policy_htable_add(name[0] == '@' ? &mp->map->domains :
			      &mp->map->logins, &policy->arena, entry->hash,
			      entry) < 0)
		return policy_error_oom(mp->ctx);
	*entry_r = entry;
	return 0;
}

/* The key of a KEY=RATE word, with its first value: *k_r and *value_r
   (the part after '=', placed where it is in the file). */
static int entry_key(struct map_parse *mp,
		     const struct policy_rate_entry *entry,
		     const struct policy_token *word, unsigned int *key_cols,
		     unsigned int *k_r, struct policy_token *value_r)
{
	struct policy_token name = *word;
	const char *eq = memchr(word->str, '=', word->len);
	size_t len = (size_t)(eq - word->str);
	char buf[120];
	int k;

	name.len = len;
	name.raw_len = (unsigned int)len;
	if (len == 0)
		return entry_error(mp, word, "missing the key before '='");
	k = policy_name_lookup(limit_key_name_u, MP_LIMIT_KEY_COUNT,
			       word->str, len);
	if (k < 0) {
		return entry_error(mp, &name, "not a rate key (use "
				   "rate_login, rate_client_ip, rate_sender, "
				   "rate_domain or their _recipients forms)");
	}
	if (entry->name[0] != '@' &&
	    mp_limit_key_subject((enum mp_limit_key)k) ==
	    MP_LIMIT_SUBJECT_DOMAIN) {
		snprintf(buf, sizeof(buf), "%s is the domain's: set it on an "
			 "@domain entry", mp_limit_key_name(k));
		return entry_error(mp, &name, buf);
	}
	if (key_cols[k] != 0) {
		snprintf(buf, sizeof(buf), "set twice in this entry (first at "
			 "column %u)", key_cols[k]);
		return entry_error(mp, &name, buf);
	}
	key_cols[k] = word->col;
	if (len + 1 == word->len) {
		snprintf(buf, sizeof(buf), "missing the rate after '=' (e.g. "
			 "%s=100/1h)", mp_limit_key_name(k));
		return entry_error(mp, word, buf);
	}
	*value_r = *word;
	value_r->str = eq + 1;
	value_r->len = word->len - len - 1;
	value_r->col = word->col + (unsigned int)len + 1;
	value_r->raw_len = (unsigned int)value_r->len;
	*k_r = (unsigned int)k;
	return 0;
}

/* The windows collected for key k of entry. */
static int entry_set(struct map_parse *mp, struct policy_rate_entry *entry,
		     unsigned int k, const struct policy_token *values,
		     size_t count)
{
	struct policy_token key = {
		.type = POLICY_TOKEN_WORD,
		.str = mp_limit_key_name((enum mp_limit_key)k),
	};
	struct mp_limit limit, *copy;

	key.len = strlen(key.str);
	if (policy_parse_limit(mp->ctx, &key, values, count, &limit) < 0)
		return -1;
	if (limit.window_count == 0) {
		entry->limit[k] = &no_limit;
		return 0;
	}
	copy = policy_arena_alloc(&mp->policy->arena, sizeof(*copy));
	if (copy == NULL)
		return policy_error_oom(mp->ctx);
	*copy = limit;
	entry->limit[k] = copy;
	mp->map->window_keys |= 1u << k;
	return 0;
}

/* One line: words[0..count), count > 0. */
static int map_line(struct map_parse *mp, const struct policy_token *words,
		    size_t count)
{
	/* one more than a key takes, so that policy_parse_limit() sees
	   (and names) the word too many */
	struct policy_token values[MP_LIMIT_MAX_WINDOWS + 1];
	unsigned int key_cols[MP_LIMIT_KEY_COUNT] = { 0 }, k = 0;
	struct policy_rate_entry *entry = NULL;
	size_t i, n = 0;

	if (entry_new(mp, &words[0], &entry) < 0)
		return -1;
	if (count == 1) {
		return policy_error(mp->ctx, words[0].line,
				    words[0].col + words[0].raw_len,
				    "missing limits after the entry (LOGIN|"
				    "@DOMAIN KEY=RATE...)");
	}
	for (i = 1; i < count; i++) {
		const struct policy_token *word = &words[i];

		if (memchr(word->str, '=', word->len) != NULL) {
			if (n > 0 && entry_set(mp, entry, k, values, n) < 0)
				return -1;
			n = 0;
			if (entry_key(mp, entry, word, key_cols, &k,
				      &values[n]) < 0)
				return -1;
			n++;
			continue;
		}
		if (n == 0) {
			return entry_error(mp, word, "expected KEY=RATE (e.g. "
					   "rate_login=100/1h)");
		}
		values[n++] = *word;
		if (n == MP_LIMIT_MAX_WINDOWS + 1)
			return entry_set(mp, entry, k, values, n);
	}
	return entry_set(mp, entry, k, values, n);
}

static int map_parse(struct map_parse *mp, const struct policy_wordfile *wf)
{
	size_t i, start = 0;

	for (i = 1; i <= wf->count; i++) {
		if (i < wf->count && wf->words[i].line == wf->words[start].line)
			continue;
		if (map_line(mp, &wf->words[start], i - start) < 0)
			return -1;
		start = i;
	}
	return 0;
}

int policy_rate_map_load(struct mp_policy *policy, struct policy_errctx *ctx,
			 const char *path, unsigned int line,
			 const struct policy_rate_map **map_r)
{
	struct policy_errctx map_ctx = { .name = path, .error = ctx->error };
	struct policy_token map_key = {
		.type = POLICY_TOKEN_WORD,
		.str = mp_listener_key_name(MP_LISTENER_RATE_MAP),
	};
	struct policy_rate_map *map;
	struct policy_wordfile wf;
	struct map_parse mp;
	int ret;

	for (map = policy->rate_maps; map != NULL; map = map->next) {
		if (strcmp(map->path, path) == 0) {
			*map_r = map;
			return 0;
		}
	}
	if (policy_wordfile_read(policy->env, ctx, path, &policy->files,
				 &wf) < 0) {
		policy_error_note(ctx, ctx->name, line);
		return -1;
	}
	map = policy_arena_alloc(&policy->arena, sizeof(*map));
	if (map != NULL)
		map->path = policy_arena_strndup(&policy->arena, path,
						 strlen(path));
	if (map == NULL || map->path == NULL) {
		policy_wordfile_free(policy->env, &wf);
		return policy_error_oom(ctx);
	}
	map_key.len = strlen(map_key.str);
	mp.policy = policy;
	mp.ctx = &map_ctx;
	mp.map = map;
	mp.map_key = &map_key;
	ret = wf.count == 0 ? 0 : map_parse(&mp, &wf);
	policy_wordfile_free(policy->env, &wf);
	if (ret < 0) {
		policy_error_note(ctx, ctx->name, line);
		return -1;
	}
	map->next = policy->rate_maps;
	policy->rate_maps = map;
	*map_r = map;
	return 0;
}

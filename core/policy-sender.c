/* policy-sender.c: which envelope senders a login may use on a
 * listener: the `sender` key (any, login, login_domain, map) and the
 * sender_map files, loaded with the policy.
 *
 * A sender map is a word file (policy-listfile.c), one login per line
 * followed by the senders it may use:
 *
 *     # login              senders
 *     alice@example.com    alice@example.com sales@example.com @example.net
 *     bob                  bob@example.org
 *
 * A sender is an address (local@domain) or a whole domain (@domain).  A
 * login may come back on later lines: its senders add up.  The map loads
 * with the policy, whole or not at all (a bad line fails the load with
 * "MAP:LINE:COL: reason"), is part of its staleness, and is read once per
 * load however many listeners name it.
 *
 * Comparisons follow the rest of the language: local parts exactly,
 * domains case-insensitively (ASCII; non-ASCII domains are refused in
 * the map as in selectors).  "Plus addressing": local+tag@domain is a
 * form of local@domain, accepted wherever local@domain is (login and
 * map), since that is how users file mail into folders. */

#include <string.h>

#include "ascii.h"
#include "policy-private.h"

struct policy_sender_entry {
	const char *login;	/* domain part lower-cased */
	size_t len, at;		/* at == len: no '@' */
	uint64_t hash;
	const char **senders;	/* "local@domain" or "@domain", domains
				   lower-cased */
	size_t count, cap;
};

struct policy_sender_map {
	const char *path;
	struct policy_htable logins;
	struct policy_sender_map *next;	/* every map of the policy */
};

/* ---- comparisons ---- */

static size_t last_at(const char *s, size_t len)
{
	size_t i;

	for (i = len; i > 0; i--) {
		if (s[i - 1] == '@')
			return i - 1;
	}
	return len;
}

/* Whether the sender (split at its last '@') is the address
   allowed[0..len): the same address, or a plus-addressed form of it
   (local+tag@domain).  Local parts compare exactly, domains folded. */
static bool address_allows(const char *allowed, size_t len,
			   const char *sender, size_t sender_len)
{
	size_t a_at = last_at(allowed, len), s_at = last_at(sender, sender_len);

	if (a_at == len || s_at == sender_len)
		return false;
	if (sender_len - s_at != len - a_at ||
	    !mp_ascii_memcaseeq(allowed + a_at, sender + s_at, len - a_at))
		return false;
	if (s_at < a_at || memcmp(allowed, sender, a_at) != 0)
		return false;
	return s_at == a_at || sender[a_at] == '+';
}

/* The sender's domain is domain[0..len). */
static bool domain_allows(const char *domain, size_t len, const char *sender,
			  size_t sender_len)
{
	size_t at = last_at(sender, sender_len);

	return at < sender_len && sender_len - at - 1 == len &&
		mp_ascii_memcaseeq(domain, sender + at + 1, len);
}

/* ---- loading ---- */

static uint64_t login_hash(const struct mp_policy *policy, const char *login,
			   size_t len, size_t at)
{
	return mp_siphash13_fold(policy->hash_key, login, len, at + 1);
}

static struct policy_sender_entry *
entry_find(const struct mp_policy *policy, const struct policy_sender_map *map,
	   const char *login, size_t len)
{
	struct policy_sender_entry *entry;
	size_t at = last_at(login, len), pos = 0;
	uint64_t hash = login_hash(policy, login, len, at);

	while ((entry = policy_htable_next(&map->logins, hash, &pos)) != NULL) {
		if (entry->len == len && entry->at == at &&
		    memcmp(entry->login, login, at) == 0 &&
		    mp_ascii_memcaseeq(entry->login + at, login + at,
				       len - at))
			return entry;
	}
	return NULL;
}

/* A copy of s[0..len) with the part from `from` lower-cased. */
static char *copy_folded(struct policy_arena *arena, const char *s, size_t len,
			 size_t from)
{
	char *copy = policy_arena_strndup(arena, s, len);
	size_t i;

	if (copy == NULL)
		return NULL;
	for (i = from; i < len; i++)
		copy[i] = (char)mp_ascii_tolower((unsigned char)copy[i]);
	return copy;
}

static int entry_add_sender(struct policy_arena *arena,
			    struct policy_sender_entry *entry, const char *sender)
{
	const char **grown;

	if (entry->count == entry->cap) {
		size_t cap = entry->cap == 0 ? 4 : entry->cap * 2;

		grown = policy_arena_alloc(arena, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		if (entry->count > 0)
			memcpy(grown, entry->senders,
			       entry->count * sizeof(*grown));
		entry->senders = grown;
		entry->cap = cap;
	}
	entry->senders[entry->count++] = sender;
	return 0;
}

/* One word of a map line after the login. */
static int map_sender(struct mp_policy *policy, struct policy_errctx *ctx,
		      const struct policy_token *key,
		      struct policy_sender_entry *entry,
		      const struct policy_token *word)
{
	const char *error;
	char *copy;
	bool in_domain;
	size_t at;

	at = last_at(word->str, word->len);
	if (at == word->len) {
		return policy_word_error(ctx, key, word, "not an address (use "
					 "local@domain or @domain)");
	}
	/* a leading '@' is an @domain, as the lookup reads it, even when
	   another '@' follows (which the domain check then refuses) */
	if (word->str[0] == '@') {
		if (policy_check_domain(word->str + 1, word->len - 1,
					&error) < 0)
			return policy_word_error(ctx, key, word, error);
	} else if (policy_check_user(word->str, word->len, &error,
				     &in_domain) < 0) {
		return policy_word_error(ctx, key, word, error);
	}
	copy = copy_folded(&policy->arena, word->str, word->len, at);
	if (copy == NULL || entry_add_sender(&policy->arena, entry, copy) < 0)
		return policy_error_oom(ctx);
	return 0;
}

/* The entry for a login word, made on first sight. */
static int map_login(struct mp_policy *policy, struct policy_errctx *ctx,
		     const struct policy_token *key,
		     struct policy_sender_map *map,
		     const struct policy_token *word,
		     struct policy_sender_entry **entry_r)
{
	struct policy_sender_entry *entry;
	const char *error;
	bool in_domain;

	if (policy_check_user(word->str, word->len, &error, &in_domain) < 0)
		return policy_word_error(ctx, key, word, error);
	entry = entry_find(policy, map, word->str, word->len);
	if (entry == NULL) {
		entry = policy_arena_alloc(&policy->arena, sizeof(*entry));
		if (entry == NULL)
			return policy_error_oom(ctx);
		entry->len = word->len;
		entry->at = last_at(word->str, word->len);
		entry->login = copy_folded(&policy->arena, word->str,
					   word->len, entry->at);
		if (entry->login == NULL)
			return policy_error_oom(ctx);
		entry->hash = login_hash(policy, entry->login, entry->len,
					 entry->at);
		if (policy_htable_add(&map->logins, &policy->arena,
				      entry->hash, entry) < 0)
			return policy_error_oom(ctx);
	}
	*entry_r = entry;
	return 0;
}

static int map_parse(struct mp_policy *policy, struct policy_errctx *ctx,
		     const struct policy_token *key,
		     struct policy_sender_map *map,
		     const struct policy_wordfile *wf)
{
	struct policy_sender_entry *entry = NULL;
	const struct policy_token *word, *login = NULL;
	size_t i, senders = 0;

	for (i = 0; i <= wf->count; i++) {
		word = i < wf->count ? &wf->words[i] : NULL;
		if (word == NULL || login == NULL || word->line != login->line) {
			/* a new line: the last one needed a sender */
			if (login != NULL && senders == 0) {
				return policy_error(ctx, login->line,
						    login->col + login->raw_len,
						    "missing senders after the "
						    "login (LOGIN ADDRESS|@DOMAIN"
						    "...)");
			}
			if (word == NULL)
				break;
			login = word;
			senders = 0;
			if (map_login(policy, ctx, key, map, word, &entry) < 0)
				return -1;
			continue;
		}
		if (map_sender(policy, ctx, key, entry, word) < 0)
			return -1;
		senders++;
	}
	return 0;
}

int policy_sender_map_load(struct mp_policy *policy, struct policy_errctx *ctx,
			   const struct policy_token *key, const char *path,
			   unsigned int line,
			   const struct policy_sender_map **map_r)
{
	struct policy_errctx map_ctx = { .name = path, .error = ctx->error };
	struct policy_sender_map *map;
	struct policy_wordfile wf;
	int ret;

	for (map = policy->sender_maps; map != NULL; map = map->next) {
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
	if (map == NULL) {
		policy_wordfile_free(policy->env, &wf);
		return policy_error_oom(ctx);
	}
	map->path = policy_arena_strndup(&policy->arena, path, strlen(path));
	if (map->path == NULL) {
		policy_wordfile_free(policy->env, &wf);
		return policy_error_oom(ctx);
	}
	ret = map_parse(policy, &map_ctx, key, map, &wf);
	policy_wordfile_free(policy->env, &wf);
	if (ret < 0) {
		policy_error_note(ctx, ctx->name, line);
		return -1;
	}
	map->next = policy->sender_maps;
	policy->sender_maps = map;
	*map_r = map;
	return 0;
}

/* ---- the question ---- */

static bool deny(const char **reason_r, const char *reason)
{
	if (reason_r != NULL)
		*reason_r = reason;
	return false;
}

bool mp_listener_sender_allowed(const struct mp_policy *policy,
				const struct mp_listener *listener,
				const char *login, const char *sender,
				const char **reason_r)
{
	const struct policy_listener *pl;
	const struct policy_sender_entry *entry;
	size_t login_len, sender_len, at, i, len;

	if (listener->sender == MP_SENDER_ANY)
		return true;
	if (sender == NULL || sender[0] == '\0')
		return deny(reason_r, "the null sender <> needs sender = any");
	if (login == NULL || login[0] == '\0')
		return deny(reason_r, "no login: authentication is needed "
			    "to choose a sender");
	login_len = strlen(login);
	sender_len = strlen(sender);
	switch (listener->sender) {
	case MP_SENDER_LOGIN:
		at = last_at(login, login_len);
		if (at == login_len ? strcmp(login, sender) == 0 :
		    address_allows(login, login_len, sender, sender_len))
			return true;
		return deny(reason_r, "the sender is not the login");
	case MP_SENDER_LOGIN_DOMAIN:
		at = last_at(login, login_len);
		if (at == login_len)
			return deny(reason_r, "the login has no domain");
		i = last_at(sender, sender_len);
		if (i < sender_len && sender_len - i == login_len - at &&
		    mp_ascii_memcaseeq(login + at, sender + i, login_len - at))
			return true;
		return deny(reason_r, "the sender's domain is not the login's");
	case MP_SENDER_MAP:
		pl = policy_listener_of(policy, listener);
		if (pl == NULL || pl->sender_map == NULL)
			return deny(reason_r, "no sender_map for this listener");
		entry = entry_find(policy, pl->sender_map, login, login_len);
		if (entry == NULL)
			return deny(reason_r, "the login has no sender_map "
				    "entry");
		for (i = 0; i < entry->count; i++) {
			const char *allowed = entry->senders[i];

			len = strlen(allowed);
			if (allowed[0] == '@' ?
			    domain_allows(allowed + 1, len - 1, sender,
					  sender_len) :
			    address_allows(allowed, len, sender, sender_len))
				return true;
		}
		return deny(reason_r, "the sender is not in the login's "
			    "sender_map entry");
	case MP_SENDER_ANY:
		break;
	}
	return true;
}

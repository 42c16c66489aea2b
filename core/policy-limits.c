/* policy-limits.c: the windows of one rate key (`rate_login = 100/1h
 * 1000/1d`), read the same way from a listener block and from a
 * rate_map entry, and the small facts about the rate keys the milter
 * needs (whose counter, what a message costs).
 *
 * Decisions that are the language's:
 *   - every window must hold, so a key takes several; at most
 *     MP_LIMIT_MAX_WINDOWS (minute, hour, day, week is what operators
 *     ask for), which keeps every key of a message within one rate-store
 *     call (MP_LIMIT_MAX_ITEMS);
 *   - a window length appears once per key: two counts for one window
 *     would leave the reader to guess which one holds;
 *   - a shorter window needs a smaller count than every longer one:
 *     `1000/1h 100/1d` can never trip on the hour (the day trips first),
 *     which is a swapped pair far more often than an intent;
 *   - `unlimited` stands alone: it is "no limit", not a window. */

#include <stdio.h>
#include <string.h>

#include "policy-private.h"

/* The error at word about the window other: a second window of its
   length (duplicate), or a longer one with no larger count. */
static int window_error(struct policy_errctx *ctx,
			const struct policy_token *key,
			const struct policy_token *word,
			const struct mp_rate_spec *other, bool duplicate)
{
	char duration[32], rate[64], buf[200];

	mp_units_format_duration(other->window_secs, duration,
				 sizeof(duration));
	mp_units_format_rate(other, rate, sizeof(rate));
	if (duplicate)
		snprintf(buf, sizeof(buf), "a second %s window (first %s; "
			 "give each window once)", duration, rate);
	else
		snprintf(buf, sizeof(buf), "never trips before the longer %s "
			 "window %s (a shorter window needs a smaller count)",
			 duration, rate);
	return policy_word_error(ctx, key, word, buf);
}

int policy_parse_limit(struct policy_errctx *ctx,
		       const struct policy_token *key,
		       const struct policy_token *words, size_t count,
		       struct mp_limit *limit)
{
	struct mp_rate_spec rate;
	const char *error;
	size_t i, j;

	memset(limit, 0, sizeof(*limit));
	for (i = 0; i < count; i++) {
		if (i == MP_LIMIT_MAX_WINDOWS) {
			return policy_word_error(ctx, key, &words[i],
						 "too many windows (at most 4 "
						 "per key)");
		}
		if (mp_units_parse_rate(words[i].str, &rate, &error) < 0)
			return policy_word_error(ctx, key, &words[i], error);
		if (rate.count == 0) {
			if (count > 1) {
				return policy_word_error(ctx, key, &words[i],
						  "unlimited stands alone (it "
						  "cannot go with windows)");
			}
			return 0;
		}
		for (j = 0; j < i; j++) {
			if (limit->windows[j].window_secs == rate.window_secs) {
				return window_error(ctx, key, &words[i],
						    &limit->windows[j], true);
			}
		}
		limit->windows[i] = rate;
		limit->window_count = i + 1;
	}
	/* Only now, so that the word at fault is the shorter window
	   whatever the order they were written in. */
	for (i = 0; i < limit->window_count; i++) {
		for (j = 0; j < limit->window_count; j++) {
			const struct mp_rate_spec *a = &limit->windows[i],
				*b = &limit->windows[j];

			if (a->window_secs < b->window_secs &&
			    a->count >= b->count) {
				return window_error(ctx, key, &words[i], b,
						    false);
			}
		}
	}
	return 0;
}

enum mp_limit_subject mp_limit_key_subject(enum mp_limit_key key)
{
	switch (key) {
	case MP_LIMIT_LOGIN:
	case MP_LIMIT_LOGIN_RECIPIENTS:
		return MP_LIMIT_SUBJECT_LOGIN;
	case MP_LIMIT_CLIENT_IP:
	case MP_LIMIT_CLIENT_IP_RECIPIENTS:
		return MP_LIMIT_SUBJECT_CLIENT_IP;
	case MP_LIMIT_SENDER:
	case MP_LIMIT_SENDER_RECIPIENTS:
		return MP_LIMIT_SUBJECT_SENDER;
	case MP_LIMIT_DOMAIN:
	case MP_LIMIT_DOMAIN_RECIPIENTS:
	case MP_LIMIT_KEY_COUNT:
		break;
	}
	return MP_LIMIT_SUBJECT_DOMAIN;
}

bool mp_limit_key_counts_recipients(enum mp_limit_key key)
{
	return key >= MP_LIMIT_LOGIN_RECIPIENTS && key < MP_LIMIT_KEY_COUNT;
}

const char *mp_login_domain(const char *login)
{
	const char *at;

	if (login == NULL)
		return NULL;
	at = strrchr(login, '@');
	if (at == NULL || at[1] == '\0')
		return NULL;
	return at + 1;
}

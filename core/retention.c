/* retention.c: the decision logic of pop3_retention (see retention.h):
 * when a message expires, which go over max_retained_size, the EXPIRE
 * capability, and the times `sweep --as-of` accepts.  Pure: no clock, no
 * allocation, no host type. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailpolicy/retention.h"
#include "mailpolicy/units.h"

#define SECS_PER_DAY 86400u

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* a + b, or UINT64_MAX when it would overflow (a time that never comes). */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* When a message whose retention clock started at `start` expires under
   keep_after_retrieval; 0 = never. */
static uint64_t keep_expiry(const struct mp_retention *policy, uint64_t start)
{
	uint64_t when;

	if (policy->keep_after_retrieval == MP_DURATION_NEVER)
		return 0;
	when = add_sat(start, policy->keep_after_retrieval);
	/* 0 means "never" to callers; a message stamped at time 0 with
	   keep 0 still expires (at once) */
	return when == 0 ? 1 : when;
}

void mp_retention_decide(const struct mp_retention *policy,
			 const struct mp_retention_msg *msg,
			 uint64_t stamp_time, uint64_t as_of,
			 struct mp_retention_verdict *verdict_r)
{
	struct mp_retention_verdict *v = verdict_r;
	enum mp_msg_dele dele = msg->dele;
	enum mp_expire_reason reason = MP_EXPIRE_NONE;

	memset(v, 0, sizeof(*v));
	if (msg->retrieved) {
		v->retrieved_at = msg->retrieved_at;
		if (v->retrieved_at == 0) {
			v->retrieved_at = stamp_time;
			v->restamp_retrieved = true;
		}
	}
	if (dele != MP_MSG_DELE_NONE) {
		v->deleted_at = msg->deleted_at;
		if (v->deleted_at == 0) {
			v->deleted_at = stamp_time;
			v->restamp_deleted = true;
		}
	}

	switch (dele) {
	case MP_MSG_DELE_DEFERRED:
		v->state = MP_MSG_DEFERRED;
		v->clock = msg->retrieved ? v->retrieved_at : v->deleted_at;
		if (policy->on_dele == MP_DELE_DEFER) {
			v->expires = add_sat(v->deleted_at,
					     policy->dele_defer_secs);
			reason = MP_EXPIRE_DEFERRED;
		} else if (policy->on_dele == MP_DELE_EXPUNGE) {
			v->expires = v->deleted_at;
			reason = MP_EXPIRE_DEFERRED;
		} else {
			v->expires = keep_expiry(policy, v->clock);
			reason = MP_EXPIRE_HIDDEN;
		}
		if (v->expires == 0 && reason == MP_EXPIRE_DEFERRED)
			v->expires = 1;
		break;
	case MP_MSG_DELE_HIDDEN:
		v->state = MP_MSG_HIDDEN;
		v->clock = msg->retrieved ? v->retrieved_at : v->deleted_at;
		v->expires = keep_expiry(policy, v->clock);
		reason = MP_EXPIRE_HIDDEN;
		break;
	case MP_MSG_DELE_NONE:
		if (!msg->retrieved) {
			v->state = MP_MSG_NEW;
			return;
		}
		v->state = MP_MSG_RETRIEVED;
		v->clock = v->retrieved_at;
		v->expires = keep_expiry(policy, v->clock);
		reason = MP_EXPIRE_RETRIEVED;
		break;
	}
	v->expired = v->expires != 0 && v->expires <= as_of;
	v->reason = v->expired ? reason : MP_EXPIRE_NONE;
}

static int item_cmp(const void *p1, const void *p2)
{
	const struct mp_retention_item *a = p1, *b = p2;

	if (a->clock != b->clock)
		return a->clock < b->clock ? -1 : 1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return 0;
}

size_t mp_retention_over_cap(uint64_t cap, struct mp_retention_item *items,
			     size_t count)
{
	uint64_t kept = 0;
	size_t i;

	for (i = 0; i < count; i++)
		items[i].over_cap = false;
	if (cap == 0 || count == 0)
		return 0;
	qsort(items, count, sizeof(*items), item_cmp);
	/* Removing the earliest until the rest fits is keeping the longest
	   run of latest ones that fits: sum from the end, so the sum never
	   passes cap and cannot overflow. */
	for (i = count; i > 0; i--) {
		if (items[i - 1].size > cap - kept)
			break;
		kept += items[i - 1].size;
	}
	for (size_t j = 0; j < i; j++)
		items[j].over_cap = true;
	return i;
}

const char *mp_msg_state_name(enum mp_msg_state state)
{
	switch (state) {
	case MP_MSG_NEW:
		return "new";
	case MP_MSG_RETRIEVED:
		return "retrieved";
	case MP_MSG_DEFERRED:
		return "deferred";
	case MP_MSG_HIDDEN:
		return "hidden";
	}
	return "?";
}

const char *mp_expire_reason_name(enum mp_expire_reason reason)
{
	switch (reason) {
	case MP_EXPIRE_NONE:
		return "-";
	case MP_EXPIRE_RETRIEVED:
		return "retrieved";
	case MP_EXPIRE_DEFERRED:
		return "deferred";
	case MP_EXPIRE_HIDDEN:
		return "hidden";
	case MP_EXPIRE_SIZE:
		return "size";
	}
	return "?";
}

const char *mp_retention_expire_capa(const struct mp_retention *policy,
				     char *buf, size_t size)
{
	if (policy->keep_after_retrieval == MP_DURATION_NEVER)
		snprintf(buf, size, "NEVER");
	else
		snprintf(buf, size, "%llu", (unsigned long long)
			 (policy->keep_after_retrieval / SECS_PER_DAY));
	return buf;
}

/* ---- --as-of TIME ---- */

/* Reads exactly n digits at *p into *value_r and advances *p. */
static bool read_fixed_digits(const char **p, unsigned int n,
			      unsigned int *value_r)
{
	unsigned int i, value = 0;

	for (i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		value = value * 10 + (unsigned int)((*p)[i] - '0');
	}
	*p += n;
	*value_r = value;
	return true;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
   (Howard Hinnant's days_from_civil); y >= 1970 here. */
static uint64_t days_from_civil(unsigned int y, unsigned int m, unsigned int d)
{
	unsigned int era, yoe, doy, doe;

	y -= m <= 2 ? 1 : 0;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)era * 146097 + doe - 719468;
}

static bool is_leap(unsigned int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned int days_in_month(unsigned int y, unsigned int m)
{
	static const unsigned char days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int parse_iso8601(const char *str, uint64_t *time_r,
			 const char **error_r)
{
	const char *p = str;
	unsigned int y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0;
	uint64_t t, offset = 0;
	bool negative = false;

	if (!read_fixed_digits(&p, 4, &y) || *p++ != '-' ||
	    !read_fixed_digits(&p, 2, &mo) || *p++ != '-' ||
	    !read_fixed_digits(&p, 2, &d)) {
		*error_r = "invalid time: expected YYYY-MM-DD";
		return -1;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo)) {
		*error_r = "invalid time: no such date (or before 1970)";
		return -1;
	}
	if (*p == 'T' || *p == 't') {
		p++;
		if (!read_fixed_digits(&p, 2, &h) || *p++ != ':' ||
		    !read_fixed_digits(&p, 2, &mi)) {
			*error_r = "invalid time: expected THH:MM[:SS] after the date";
			return -1;
		}
		if (*p == ':') {
			p++;
			if (!read_fixed_digits(&p, 2, &s)) {
				*error_r = "invalid time: expected two digits of seconds";
				return -1;
			}
		}
		if (h > 23 || mi > 59 || s > 59) {
			*error_r = "invalid time: hour, minute or second out of range";
			return -1;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			negative = *p++ == '-';
			bool ok = read_fixed_digits(&p, 2, &oh);
			if (ok && *p == ':')
				p++;
			if (!ok || !read_fixed_digits(&p, 2, &om) ||
			    oh > 23 || om > 59) {
				*error_r = "invalid time: zone offset must be +HH:MM or -HH:MM";
				return -1;
			}
			offset = (uint64_t)oh * 3600 + (uint64_t)om * 60;
		}
	}
	if (*p != '\0') {
		*error_r = "invalid time: unexpected characters after the date";
		return -1;
	}
	t = days_from_civil(y, mo, d) * SECS_PER_DAY +
		(uint64_t)h * 3600 + (uint64_t)mi * 60 + s;
	/* local time = UTC + offset, so UTC = local - offset */
	if (!negative) {
		if (offset > t) {
			*error_r = "invalid time: before 1970";
			return -1;
		}
		t -= offset;
	} else {
		t += offset;
	}
	*time_r = t;
	return 0;
}

int mp_retention_parse_time(const char *str, uint64_t now, uint64_t *time_r,
			    const char **error_r)
{
	uint64_t value;
	const char *p;

	if (str == NULL || *str == '\0') {
		*error_r = "invalid time: empty value";
		return -1;
	}
	if (*str == '+') {
		if (mp_units_parse_duration(str + 1, &value, error_r) < 0)
			return -1;
		if (value == MP_DURATION_NEVER) {
			*error_r = "invalid time: +never is not a time";
			return -1;
		}
		*time_r = add_sat(now, value);
		return 0;
	}
	for (p = str; is_digit(*p); p++) ;
	if (*p == '\0') {
		/* all digits: a UNIX timestamp (a date has '-') */
		if (mp_units_parse_uint(str, 0, (uint64_t)INT64_MAX, time_r,
					error_r) < 0) {
			*error_r = "invalid time: timestamp too large";
			return -1;
		}
		return 0;
	}
	return parse_iso8601(str, time_r, error_r);
}

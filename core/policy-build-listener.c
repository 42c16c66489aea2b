/* policy-build-listener.c: listener blocks, the SMTP policy of one kind
 * of Postfix smtpd service, read by mailpolicy-milter.  No selector and
 * no inheritance: a listener's unset keys are built in.
 *
 * Decisions that are the language's, not the milter's:
 *   - a port belongs to at most one listener (else which one applies
 *     would depend on file order), and is listed once;
 *   - min_tls with tls = optional is allowed: plaintext sessions pass,
 *     a TLS session below min_tls does not;
 *   - contradictions within a block are errors: sender = map without
 *     sender_map and the reverse; auth = forbid with any of sender =
 *     login/login_domain/map, auth_mechanisms, the login and domain rate
 *     keys or rate_map (no login, nothing to count);
 *   - a key that would do nothing is an error: sender_map without
 *     sender = map, rate_client_ipv6_prefix without a client rate,
 *     header_from = match_sender without a sender check, over_limit
 *     without any rate limit (the listener's or its rate_map's);
 *   - sender_map and rate_map are paths made absolute against the
 *     policy file's directory (the milter changes directory when it
 *     daemonizes), and the maps load with the policy (policy-sender.c,
 *     policy-ratemap.c);
 *   - a rate key takes several windows, all of which must hold
 *     (policy-limits.c);
 *   - the list keys (ports, auth_mechanisms, allowed_clients) take
 *     `file:/PATH` words, whose files' words stand in their place
 *     (policy-listfile.c); a list that comes out empty is an error, so
 *     an empty file cannot open a listener to every client;
 *   - SASL mechanism names are compared in upper case (RFC 4422), at
 *     most 64 of them. */

#include <stdio.h>
#include <string.h>

#include "policy-private.h"

#define SASL_MECH_MAX_LEN 20		/* RFC 4422 3.1 */
#define SASL_MECH_MAX_COUNT 64
#define IPV6_PREFIX_DEFAULT 64

_Static_assert(MP_LISTENER_KEY_COUNT <= POLICY_BUILD_MAX_KEYS,
	       "see struct policy_build_keys");

static void policy_listener_builtin(struct mp_listener *listener)
{
	memset(listener, 0, sizeof(*listener));
	listener->auth = MP_OPTIONAL;
	listener->tls = MP_OPTIONAL;
	listener->min_tls = MP_TLS_ANY;
	listener->sender = MP_SENDER_ANY;
	listener->header_from = MP_HEADER_FROM_ANY;
	listener->rate_client_ipv6_prefix = IPV6_PREFIX_DEFAULT;
	listener->over_limit = MP_OVER_LIMIT_TEMPFAIL;
	listener->add_audit_header = true;
}

int policy_build_listener_open(struct mp_policy *policy,
			       struct policy_errctx *ctx,
			       const struct policy_token *label,
			       struct mp_listener **listener_r)
{
	struct mp_listener *listener, **array;
	struct policy_listener *own;
	uint64_t hash;
	char buf[80];

	if (label->len == 0) {
		return policy_error(ctx, label->line, label->col,
				    "empty listener label");
	}
	listener = policy_listener_by_label(policy, label->str, label->len);
	if (listener != NULL) {
		return policy_error(ctx, label->line, label->col,
				    "duplicate listener %s (first at line %u)",
				    policy_shown(label, buf), listener->line);
	}
	hash = mp_siphash13_fold(policy->hash_key, label->str, label->len,
				 label->len);
	own = policy_arena_alloc(&policy->arena, sizeof(*own));
	if (own == NULL)
		return policy_error_oom(ctx);
	listener = &own->pub;
	policy_listener_builtin(listener);
	listener->label = policy_arena_strndup(&policy->arena, label->str,
					       label->len);
	if (listener->label == NULL)
		return policy_error_oom(ctx);
	listener->line = label->line;
	if (policy_htable_add(&policy->labels, &policy->arena, hash,
			      listener) < 0)
		return policy_error_oom(ctx);
	if (policy->listener_count == policy->listener_cap) {
		size_t cap = policy->listener_cap == 0 ? 8 :
			policy->listener_cap * 2;

		array = policy_arena_alloc(&policy->arena, cap * sizeof(*array));
		if (array == NULL)
			return policy_error_oom(ctx);
		if (policy->listener_count > 0) {
			memcpy(array, policy->listeners,
			       policy->listener_count * sizeof(*array));
		}
		policy->listeners = array;
		policy->listener_cap = cap;
	}
	policy->listeners[policy->listener_count++] = listener;
	*listener_r = listener;
	return 0;
}

static const struct mp_listener *
port_owner(const struct mp_policy *policy, uint16_t port)
{
	size_t i, j;

	for (i = 0; i < policy->listener_count; i++) {
		for (j = 0; j < policy->listeners[i]->port_count; j++) {
			if (policy->listeners[i]->ports[j] == port)
				return policy->listeners[i];
		}
	}
	return NULL;
}

static int assign_ports(struct mp_policy *policy, struct policy_errctx *ctx,
			struct mp_listener *listener, uint8_t *bitmap,
			const struct policy_token *key,
			const struct policy_token *values, size_t count)
{
	const struct mp_listener *owner;
	const char *error;
	uint16_t *ports, port;
	uint8_t own[65536 / 8];
	char buf[200], clip[80];
	size_t i;

	ports = policy_arena_alloc(&policy->arena, count * sizeof(*ports));
	if (ports == NULL)
		return policy_error_oom(ctx);
	memset(own, 0, sizeof(own));
	for (i = 0; i < count; i++) {
		if (mp_units_parse_port(values[i].str, &port, &error) < 0)
			return policy_word_error(ctx, key, &values[i], error);
		if ((own[port / 8] & (1u << (port % 8))) != 0) {
			return policy_word_error(ctx, key, &values[i],
						 "listed twice");
		}
		own[port / 8] |= (uint8_t)(1u << (port % 8));
		if ((bitmap[port / 8] & (1u << (port % 8))) != 0) {
			owner = port_owner(policy, port);
			snprintf(buf, sizeof(buf),
				 "already used by listener %s (line %u)",
				 policy_clip(owner != NULL ? owner->label : "?",
					     clip),
				 owner != NULL ? owner->line : 0);
			return policy_word_error(ctx, key, &values[i], buf);
		}
		ports[i] = port;
	}
	/* Only now: port_owner() must not find this listener's own. */
	for (i = 0; i < count; i++)
		bitmap[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
	listener->ports = ports;
	listener->port_count = count;
	return 0;
}

static int assign_mechanisms(struct mp_policy *policy,
			     struct policy_errctx *ctx,
			     struct mp_listener *listener,
			     const struct policy_token *key,
			     const struct policy_token *values, size_t count)
{
	const char **mechs;
	char *mech;
	size_t i, j;

	if (count > SASL_MECH_MAX_COUNT) {
		return policy_word_error(ctx, key, &values[SASL_MECH_MAX_COUNT],
					 "too many mechanisms (limit 64)");
	}
	mechs = policy_arena_alloc(&policy->arena, count * sizeof(*mechs));
	if (mechs == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < count; i++) {
		if (values[i].len == 0 || values[i].len > SASL_MECH_MAX_LEN) {
			return policy_word_error(ctx, key, &values[i],
					  "a SASL mechanism name has 1 to 20 "
					  "characters");
		}
		mech = policy_arena_strndup(&policy->arena, values[i].str,
					    values[i].len);
		if (mech == NULL)
			return policy_error_oom(ctx);
		for (j = 0; j < values[i].len; j++) {
			char c = mech[j];

			if (c >= 'a' && c <= 'z')
				mech[j] = c - 'a' + 'A';
			else if (!((c >= 'A' && c <= 'Z') ||
				   (c >= '0' && c <= '9') || c == '-' ||
				   c == '_')) {
				return policy_word_error(ctx, key, &values[i],
						  "invalid SASL mechanism name "
						  "(letters, digits, '-', '_')");
			}
		}
		for (j = 0; j < i; j++) {
			if (strcmp(mechs[j], mech) == 0) {
				return policy_word_error(ctx, key, &values[i],
						  "listed twice");
			}
		}
		mechs[i] = mech;
	}
	listener->auth_mechanisms = mechs;
	listener->auth_mechanism_count = count;
	return 0;
}

static int assign_clients(struct mp_policy *policy, struct policy_errctx *ctx,
			  struct mp_listener *listener,
			  const struct policy_token *key,
			  const struct policy_token *values, size_t count)
{
	struct mp_cidr *cidrs;
	const char *error;
	size_t i;

	cidrs = policy_arena_alloc(&policy->arena, count * sizeof(*cidrs));
	if (cidrs == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < count; i++) {
		if (mp_cidr_parse(values[i].str, &cidrs[i], &error) < 0)
			return policy_word_error(ctx, key, &values[i], error);
	}
	listener->allowed_clients = cidrs;
	listener->allowed_client_count = count;
	return 0;
}

/* A list key: its words, with list files expanded. */
static int assign_list(struct mp_policy *policy, struct policy_errctx *ctx,
		       struct mp_listener *listener, uint8_t *port_bitmap,
		       enum mp_listener_key k, const struct policy_token *key,
		       const struct policy_token *values, size_t count)
{
	struct policy_list list;
	int ret;

	if (policy_list_expand(policy, ctx, key, values, count, &list) < 0)
		return -1;
	if (k == MP_LISTENER_PORTS)
		ret = assign_ports(policy, ctx, listener, port_bitmap, key,
				   list.words, list.count);
	else if (k == MP_LISTENER_AUTH_MECHANISMS)
		ret = assign_mechanisms(policy, ctx, listener, key, list.words,
					list.count);
	else
		ret = assign_clients(policy, ctx, listener, key, list.words,
				     list.count);
	policy_list_free(policy->env, &list);
	return ret;
}

int policy_build_listener_assign(struct mp_policy *policy,
				 struct policy_errctx *ctx,
				 struct mp_listener *listener,
				 struct policy_build_keys *keys,
				 uint8_t *port_bitmap,
				 const struct policy_token *key,
				 const struct policy_token *values,
				 size_t count)
{
	const char *error;
	unsigned int value;
	uint64_t number;
	int k;

	k = policy_key_lookup(ctx, keys, key, policy_listener_key_name,
		       MP_LISTENER_KEY_COUNT, "listener");
	if (k < 0)
		return -1;
	switch ((enum mp_listener_key)k) {
	case MP_LISTENER_PORTS:
	case MP_LISTENER_AUTH_MECHANISMS:
	case MP_LISTENER_ALLOWED_CLIENTS:
		if (assign_list(policy, ctx, listener, port_bitmap, k, key,
				values, count) < 0)
			return -1;
		break;
	case MP_LISTENER_AUTH:
		if (policy_choice_value(ctx, key, values, count, &policy_choice_auth,
			   &value) < 0)
			return -1;
		listener->auth = value;
		break;
	case MP_LISTENER_TLS:
		if (policy_choice_value(ctx, key, values, count, &policy_choice_tls,
			   &value) < 0)
			return -1;
		listener->tls = value;
		break;
	case MP_LISTENER_MIN_TLS:
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		/* "any" is what explain prints for no minimum. */
		if (strcmp(values[0].str,
			   mp_units_tls_version_name(MP_TLS_ANY)) == 0)
			listener->min_tls = MP_TLS_ANY;
		else if (mp_units_parse_tls_version(values[0].str,
						    &listener->min_tls,
						    &error) < 0)
			return policy_word_error(ctx, key, &values[0], error);
		break;
	case MP_LISTENER_SENDER:
		if (policy_choice_value(ctx, key, values, count, &policy_choice_sender,
			   &value) < 0)
			return -1;
		listener->sender = value;
		break;
	case MP_LISTENER_SENDER_MAP:
		/* loaded when the block closes, once the keys agree */
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		listener->sender_map = policy_include_path(policy, ctx, key,
							   &values[0],
							   values[0].str,
							   values[0].len);
		if (listener->sender_map == NULL)
			return -1;
		break;
	case MP_LISTENER_MAX_RECIPIENTS:
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		if (mp_units_parse_uint(values[0].str, 0, UINT32_MAX, &number,
					&error) < 0)
			return policy_word_error(ctx, key, &values[0], error);
		listener->max_recipients = number;
		break;
	case MP_LISTENER_MAX_MESSAGE_SIZE:
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		if (policy_parse_size(values[0].str, &number, &error) < 0)
			return policy_word_error(ctx, key, &values[0], error);
		listener->max_message_size = number;
		break;
	case MP_LISTENER_RATE_LOGIN:
	case MP_LISTENER_RATE_CLIENT_IP:
	case MP_LISTENER_RATE_SENDER:
	case MP_LISTENER_RATE_DOMAIN:
	case MP_LISTENER_RATE_LOGIN_RECIPIENTS:
	case MP_LISTENER_RATE_CLIENT_IP_RECIPIENTS:
	case MP_LISTENER_RATE_SENDER_RECIPIENTS:
	case MP_LISTENER_RATE_DOMAIN_RECIPIENTS:
		if (policy_parse_limit(ctx, key, values, count,
				       &listener->limits[k -
						MP_LISTENER_RATE_LOGIN]) < 0)
			return -1;
		break;
	case MP_LISTENER_RATE_MAP:
		/* loaded when the block closes, once the keys agree */
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		listener->rate_map = policy_include_path(policy, ctx, key,
							 &values[0],
							 values[0].str,
							 values[0].len);
		if (listener->rate_map == NULL)
			return -1;
		break;
	case MP_LISTENER_HEADER_FROM:
		if (policy_choice_value(ctx, key, values, count,
					&policy_choice_header_from, &value) < 0)
			return -1;
		listener->header_from = value;
		break;
	case MP_LISTENER_OVER_LIMIT:
		if (policy_choice_value(ctx, key, values, count,
					&policy_choice_over_limit, &value) < 0)
			return -1;
		listener->over_limit = value;
		break;
	case MP_LISTENER_ADD_AUDIT_HEADER:
		if (policy_choice_value(ctx, key, values, count,
					&policy_choice_bool, &value) < 0)
			return -1;
		listener->add_audit_header = value == 0;
		break;
	case MP_LISTENER_RATE_CLIENT_IPV6_PREFIX:
		if (policy_one_value(ctx, key, values, count) < 0)
			return -1;
		if (mp_units_parse_uint(values[0].str, 1, 128, &number,
					&error) < 0)
			return policy_word_error(ctx, key, &values[0],
						 "a prefix length is 1 to 128");
		listener->rate_client_ipv6_prefix = (unsigned int)number;
		break;
	case MP_LISTENER_KEY_COUNT:
		return -1;
	}
	listener->origin[k].scope = MP_ORIGIN_DEFAULT;
	listener->origin[k].selector = NULL;
	listener->origin[k].line = key->line;
	return 0;
}

static int check_forbid(struct policy_errctx *ctx,
			const struct mp_listener *listener,
			const struct policy_build_keys *keys);
static int check_limits(struct policy_errctx *ctx,
			const struct policy_listener *listener,
			const struct policy_build_keys *keys);

/* A key token for messages about a map's words: the key's own token is
   gone with its line, its name is all they need. */
static struct policy_token key_token(enum mp_listener_key k)
{
	struct policy_token key = {
		.type = POLICY_TOKEN_WORD,
		.str = mp_listener_key_name(k),
	};

	key.len = strlen(key.str);
	return key;
}

int policy_build_listener_close(struct mp_policy *policy,
				struct policy_errctx *ctx,
				struct mp_listener *listener,
				const struct policy_build_keys *keys)
{
	struct policy_listener *own = (struct policy_listener *)listener;
	const unsigned int *line = keys->line, *col = keys->col;
	struct policy_token key;

	if (listener->sender == MP_SENDER_MAP &&
	    line[MP_LISTENER_SENDER_MAP] == 0) {
		return policy_error(ctx, line[MP_LISTENER_SENDER],
				    col[MP_LISTENER_SENDER],
				    "sender = map needs sender_map = FILE");
	}
	if (line[MP_LISTENER_SENDER_MAP] != 0 &&
	    listener->sender != MP_SENDER_MAP) {
		return policy_error(ctx, line[MP_LISTENER_SENDER_MAP],
				    col[MP_LISTENER_SENDER_MAP],
				    "sender_map is only used with sender = map");
	}
	if (listener->auth == MP_FORBID &&
	    check_forbid(ctx, listener, keys) < 0)
		return -1;
	if (listener->header_from == MP_HEADER_FROM_MATCH_SENDER &&
	    listener->sender == MP_SENDER_ANY) {
		return policy_error(ctx, line[MP_LISTENER_HEADER_FROM],
				    col[MP_LISTENER_HEADER_FROM],
				    "header_from = match_sender needs a sender "
				    "check (sender = login, login_domain or "
				    "map)");
	}
	if (listener->sender == MP_SENDER_MAP) {
		key = key_token(MP_LISTENER_SENDER_MAP);
		if (policy_sender_map_load(policy, ctx, &key,
					   listener->sender_map,
					   line[MP_LISTENER_SENDER_MAP],
					   &own->sender_map) < 0)
			return -1;
	}
	if (listener->rate_map != NULL &&
	    policy_rate_map_load(policy, ctx, listener->rate_map,
				 line[MP_LISTENER_RATE_MAP],
				 &own->rate_map) < 0)
		return -1;
	return check_limits(ctx, own, keys);
}

/* Whether key has a window in the listener or its rate_map. */
static bool limited(const struct policy_listener *listener,
		    enum mp_limit_key key)
{
	return listener->pub.limits[key].window_count > 0 ||
		(listener->rate_map != NULL &&
		 policy_rate_map_limits(listener->rate_map, key));
}

/* The keys that only mean something next to a rate limit. */
static int check_limits(struct policy_errctx *ctx,
			const struct policy_listener *listener,
			const struct policy_build_keys *keys)
{
	const unsigned int *line = keys->line, *col = keys->col;
	unsigned int k;

	if (line[MP_LISTENER_RATE_CLIENT_IPV6_PREFIX] != 0 &&
	    !limited(listener, MP_LIMIT_CLIENT_IP) &&
	    !limited(listener, MP_LIMIT_CLIENT_IP_RECIPIENTS)) {
		return policy_error(ctx,
				    line[MP_LISTENER_RATE_CLIENT_IPV6_PREFIX],
				    col[MP_LISTENER_RATE_CLIENT_IPV6_PREFIX],
				    "rate_client_ipv6_prefix is only used with "
				    "rate_client_ip or rate_client_ip_recipients");
	}
	if (line[MP_LISTENER_OVER_LIMIT] == 0)
		return 0;
	for (k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		if (limited(listener, k))
			return 0;
	}
	return policy_error(ctx, line[MP_LISTENER_OVER_LIMIT],
			    col[MP_LISTENER_OVER_LIMIT],
			    "over_limit is only used with rate limits (a rate_* "
			    "key, or a rate_map that sets one)");
}

/* auth = forbid: no login, so nothing that needs one. */
static int check_forbid(struct policy_errctx *ctx,
			const struct mp_listener *listener,
			const struct policy_build_keys *keys)
{
	static const struct {
		enum mp_listener_key key;
		const char *error;
	} needs_login[] = {
		{ MP_LISTENER_RATE_LOGIN,
		  "rate_login counts logins, but auth = forbid" },
		{ MP_LISTENER_RATE_LOGIN_RECIPIENTS,
		  "rate_login_recipients counts logins, but auth = forbid" },
		{ MP_LISTENER_RATE_DOMAIN,
		  "rate_domain counts the logins' domains, but auth = forbid" },
		{ MP_LISTENER_RATE_DOMAIN_RECIPIENTS,
		  "rate_domain_recipients counts the logins' domains, but "
		  "auth = forbid" },
		{ MP_LISTENER_RATE_MAP,
		  "rate_map sets limits per login, but auth = forbid" },
	};
	const unsigned int *line = keys->line, *col = keys->col;
	const size_t n = sizeof(needs_login) / sizeof(needs_login[0]);
	size_t i, first = n;

	if (listener->sender != MP_SENDER_ANY) {
		return policy_error(ctx, line[MP_LISTENER_SENDER],
				    col[MP_LISTENER_SENDER],
				    "sender = %s needs a login, but auth = "
				    "forbid",
				    mp_sender_check_name(listener->sender));
	}
	if (line[MP_LISTENER_AUTH_MECHANISMS] != 0) {
		return policy_error(ctx, line[MP_LISTENER_AUTH_MECHANISMS],
				    col[MP_LISTENER_AUTH_MECHANISMS],
				    "auth_mechanisms conflicts with auth = "
				    "forbid");
	}
	/* the first of them in the file */
	for (i = 0; i < sizeof(needs_login) / sizeof(needs_login[0]); i++) {
		enum mp_listener_key k = needs_login[i].key;

		if (line[k] != 0 &&
		    (first == n || line[k] < line[needs_login[first].key]))
			first = i;
	}
	if (first == n)
		return 0;
	return policy_error(ctx, line[needs_login[first].key],
			    col[needs_login[first].key], "%s",
			    needs_login[first].error);
}

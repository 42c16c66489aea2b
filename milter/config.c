/* config.c: loading, sharing and swapping the milter's config (see
 * config.h). */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

/* Default grouping of IPv6 clients for rate_client_ip (a /64 is what one
   customer gets). */
#define CONFIG_IPV6_PREFIX 64
/* Deadline of one Redis call: far below Postfix's milter_command_timeout
   (30 s) and milter_content_timeout (300 s). */
#define CONFIG_REDIS_TIMEOUT_MS 500

struct config_store {
	int refcount;
	struct mp_rate_store *store;
	char *signature;	/* the settings it was made with */
};

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_config *current;

static void store_unref(struct config_store **_cs)
{
	struct config_store *cs = *_cs;

	*_cs = NULL;
	if (cs == NULL || __atomic_sub_fetch(&cs->refcount, 1,
					     __ATOMIC_ACQ_REL) != 0)
		return;
	mp_rate_store_free(&cs->store);
	explicit_bzero(cs->signature, strlen(cs->signature));
	free(cs->signature);
	free(cs);
}

static bool policy_has_rates(const struct mp_policy *policy)
{
	for (size_t i = 0; i < mp_policy_listener_count(policy); i++) {
		const struct mp_listener *l = mp_policy_listener_at(policy, i);

		if (l->rate_login.count != 0 || l->rate_client_ip.count != 0 ||
		    l->rate_sender.count != 0)
			return true;
	}
	return false;
}

static unsigned int policy_stages(const struct mp_policy *policy,
				  bool has_rates)
{
	const struct mp_milter_settings *m = mp_policy_milter(policy);
	unsigned int stages = 0;

	for (size_t i = 0; i < mp_policy_listener_count(policy); i++) {
		const struct mp_listener *l = mp_policy_listener_at(policy, i);

		if (l->max_recipients != 0)
			stages |= CONFIG_STAGE_RCPT;
		if (l->max_message_size != 0)
			stages |= CONFIG_STAGE_BODY | CONFIG_STAGE_HEADER |
				CONFIG_STAGE_EOM;
	}
	if (m->audit_header[0] != '\0')
		stages |= CONFIG_STAGE_HEADER | CONFIG_STAGE_EOM;
	if (has_rates)
		stages |= CONFIG_STAGE_EOM;
	return stages;
}

/* The store settings as one string, to tell whether a reload changed
   them.  Holds the password: freed with explicit_bzero. */
static char *store_signature(const struct mp_milter_settings *m,
			     const char *password)
{
	char *sig = NULL;

	if (m->rate_store == MP_RATE_STORE_MEMORY)
		return strdup("memory");
	if (asprintf(&sig, "redis|%s|%u|%u|%s", m->redis_host, m->redis_port,
		     m->redis_db, password != NULL ? password : "") < 0)
		return NULL;
	return sig;
}

static struct config_store *store_make(const struct mp_milter_settings *m,
				       const char *password,
				       struct milter_config *prev,
				       char *error, size_t error_size)
{
	struct config_store *cs;
	const char *err = NULL;
	char *sig = store_signature(m, password);

	if (sig == NULL) {
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	if (prev != NULL && prev->store != NULL &&
	    strcmp(prev->store->signature, sig) == 0) {
		free(sig);
		__atomic_add_fetch(&prev->store->refcount, 1, __ATOMIC_RELAXED);
		return prev->store;
	}
	cs = calloc(1, sizeof(*cs));
	if (cs == NULL) {
		free(sig);
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	cs->refcount = 1;
	cs->signature = sig;
	if (m->rate_store == MP_RATE_STORE_MEMORY) {
		if (mp_rate_store_memory_create(log_env(), 0, &cs->store,
						&err) < 0)
			goto fail;
	} else {
		struct mp_rate_redis_settings set;

		memset(&set, 0, sizeof(set));
		set.host = m->redis_host;
		set.port = m->redis_port;
		set.db = m->redis_db;
		set.password = password;
		set.timeout_ms = CONFIG_REDIS_TIMEOUT_MS;
		if (mp_rate_store_redis_create(log_env(), &set, &cs->store,
					       &err) < 0)
			goto fail;
	}
	return cs;
fail:
	snprintf(error, error_size, "%s", err);
	free(cs->signature);
	free(cs);
	return NULL;
}

struct milter_config *config_load(const char *path,
				  struct milter_config *prev,
				  char *error, size_t error_size)
{
	struct milter_config *config;
	struct mp_error perr;
	const struct mp_milter_settings *m;
	bool has_rates;

	config = calloc(1, sizeof(*config));
	if (config == NULL) {
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	config->refcount = 1;
	config->generation = prev != NULL ? prev->generation + 1 : 1;
	config->ipv6_prefix = CONFIG_IPV6_PREFIX;
	if (mp_policy_load_file(log_env(), path, &config->policy, &perr) < 0) {
		snprintf(error, error_size, "%s", perr.text);
		free(config);
		return NULL;
	}
	m = config->milter = mp_policy_milter(config->policy);
	if (m->hmac_key_file != NULL &&
	    audit_key_read(m->hmac_key_file, config->hmac_key,
			   &config->hmac_key_len, error, error_size) < 0)
		goto fail;
	has_rates = policy_has_rates(config->policy);
	if (has_rates) {
		config->store = store_make(m, NULL, prev, error, error_size);
		if (config->store == NULL)
			goto fail;
	}
	config->stages = policy_stages(config->policy, has_rates);
	return config;
fail:
	mp_policy_unref(&config->policy);
	explicit_bzero(config->hmac_key, sizeof(config->hmac_key));
	free(config);
	return NULL;
}

struct milter_config *config_ref(struct milter_config *config)
{
	__atomic_add_fetch(&config->refcount, 1, __ATOMIC_RELAXED);
	return config;
}

void config_unref(struct milter_config **_config)
{
	struct milter_config *config = *_config;

	*_config = NULL;
	if (config == NULL || __atomic_sub_fetch(&config->refcount, 1,
						 __ATOMIC_ACQ_REL) != 0)
		return;
	store_unref(&config->store);
	mp_policy_unref(&config->policy);
	explicit_bzero(config->hmac_key, sizeof(config->hmac_key));
	free(config);
}

struct mp_rate_store *config_rate_store(const struct milter_config *config)
{
	return config->store != NULL ? config->store->store : NULL;
}

void config_install(struct milter_config *config)
{
	struct milter_config *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = config;
	pthread_mutex_unlock(&current_lock);
	config_unref(&old);
}

struct milter_config *config_current(void)
{
	struct milter_config *config;

	/* the reference is taken under the lock: a reload cannot free the
	   config between reading the pointer and the increment */
	pthread_mutex_lock(&current_lock);
	config = current != NULL ? config_ref(current) : NULL;
	pthread_mutex_unlock(&current_lock);
	return config;
}

int config_reload(const char *path, char *error, size_t error_size)
{
	struct milter_config *prev = config_current(), *next;

	next = config_load(path, prev, error, error_size);
	config_unref(&prev);
	if (next == NULL)
		return -1;
	config_install(next);
	return 0;
}

void config_shutdown(void)
{
	config_install(NULL);
}

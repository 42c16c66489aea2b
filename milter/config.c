/* config.c: loading, sharing and swapping the milter's config (see
 * config.h). */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "secret.h"

/* Longest Redis password read from redis_password_file. */
#define CONFIG_REDIS_PASSWORD_MAX 512
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

static bool policy_has_limits(const struct mp_policy *policy)
{
	for (size_t i = 0; i < mp_policy_listener_count(policy); i++) {
		if (mp_listener_has_limits(policy,
					   mp_policy_listener_at(policy, i)))
			return true;
	}
	return false;
}

/* Whether a message on l may be counted by recipients: a *_recipients
   key in the block, or a rate_map, whose entries may set one. */
static bool counts_recipients(const struct mp_policy *policy,
			      const struct mp_listener *l)
{
	if (!mp_listener_has_limits(policy, l))
		return false;
	if (l->rate_map != NULL)
		return true;
	for (unsigned int k = 0; k < MP_LIMIT_KEY_COUNT; k++) {
		if (mp_limit_key_counts_recipients((enum mp_limit_key)k) &&
		    l->limits[k].window_count > 0)
			return true;
	}
	return false;
}

static unsigned int policy_stages(const struct mp_policy *policy,
				  bool has_limits)
{
	const struct mp_milter_settings *m = mp_policy_milter(policy);
	unsigned int stages = 0;

	for (size_t i = 0; i < mp_policy_listener_count(policy); i++) {
		const struct mp_listener *l = mp_policy_listener_at(policy, i);

		if (l->max_recipients != 0)
			stages |= CONFIG_STAGE_RCPT | CONFIG_STAGE_RCPT_REPLY;
		if (counts_recipients(policy, l))
			stages |= CONFIG_STAGE_RCPT;
		if (l->max_message_size != 0)
			stages |= CONFIG_STAGE_BODY | CONFIG_STAGE_HEADER |
				CONFIG_STAGE_EOM;
		if (l->header_from != MP_HEADER_FROM_ANY)
			stages |= CONFIG_STAGE_HEADER | CONFIG_STAGE_EOM;
		if (l->over_limit == MP_OVER_LIMIT_HOLD)
			stages |= CONFIG_STAGE_HOLD;
	}
	if (m->audit_header[0] != '\0')
		stages |= CONFIG_STAGE_HEADER | CONFIG_STAGE_EOM;
	if (has_limits)
		stages |= CONFIG_STAGE_EOM;
	return stages;
}

/* The Redis password: the URL's, or redis_password_file's (one line)
   read into buf; *password_r NULL when there is none. */
static int store_password(const struct mp_milter_settings *m, char *buf,
			  size_t size, const char **password_r,
			  char *error, size_t error_size)
{
	ssize_t n;

	*password_r = NULL;
	if (m->rate_store != MP_RATE_STORE_REDIS)
		return 0;
	if (m->redis_password != NULL) {
		*password_r = m->redis_password;
		return 0;
	}
	if (m->redis_password_file == NULL)
		return 0;
	n = secret_read(m->redis_password_file, "redis_password_file",
			(unsigned char *)buf, size - 1, error, error_size);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n || strpbrk(buf, "\r\n") != NULL) {
		snprintf(error, error_size, "%s: the redis_password_file must "
			 "hold one line (the password) and no NUL byte",
			 m->redis_password_file);
		explicit_bzero(buf, size);
		return -1;
	}
	*password_r = buf;
	return 0;
}

/* The store settings as one string, to tell whether a reload changed
   them.  Holds the password: freed with explicit_bzero. */
static char *store_signature(const struct mp_milter_settings *m,
			     const char *password)
{
	char *sig = NULL;

	if (m->rate_store == MP_RATE_STORE_MEMORY)
		return strdup("memory");
	if (asprintf(&sig, "redis|%s|%u|%s|%u|%s",
		     m->redis_host != NULL ? m->redis_host : "",
		     m->redis_port,
		     m->redis_socket != NULL ? m->redis_socket : "",
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
		explicit_bzero(sig, strlen(sig));
		free(sig);
		__atomic_add_fetch(&prev->store->refcount, 1, __ATOMIC_RELAXED);
		return prev->store;
	}
	cs = calloc(1, sizeof(*cs));
	if (cs == NULL) {
		explicit_bzero(sig, strlen(sig));
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
		set.unix_path = m->redis_socket;
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
	explicit_bzero(cs->signature, strlen(cs->signature));
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
	char password_buf[CONFIG_REDIS_PASSWORD_MAX + 1];
	const char *password;
	bool has_limits;

	config = calloc(1, sizeof(*config));
	if (config == NULL) {
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	config->refcount = 1;
	config->generation = prev != NULL ? prev->generation + 1 : 1;
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
	has_limits = policy_has_limits(config->policy);
	if (has_limits) {
		/* the password is read even when the store is reused: a
		   reload must find a broken password file */
		if (store_password(m, password_buf, sizeof(password_buf),
				   &password, error, error_size) < 0)
			goto fail;
		config->store = store_make(m, password, prev, error,
					   error_size);
		explicit_bzero(password_buf, sizeof(password_buf));
		if (config->store == NULL)
			goto fail;
	}
	config->stages = policy_stages(config->policy, has_limits);
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

/* session.c: per-connection state (see session.h). */

#include <stdlib.h>
#include <string.h>

#include "session.h"

struct session *session_new(struct milter_config *config)
{
	struct session *s = malloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	s->config = config;
	s->protocol = 0;
	session_reset_message(s);
	return s;
}

void session_free(struct session **_s)
{
	struct session *s = *_s;

	*_s = NULL;
	if (s == NULL)
		return;
	config_unref(&s->config);
	free(s);
}

void session_reset_message(struct session *s)
{
	/* only what a message sets: no need to clear the buffers */
	s->listener = NULL;
	memset(&s->facts, 0, sizeof(s->facts));
	s->daemon_name[0] = s->login[0] = s->auth_type[0] = '\0';
	s->tls_version[0] = s->sender[0] = s->queue_id[0] = '\0';
	s->rcpts = 0;
	s->non_smtp = false;
	s->too_many_rcpts = false;
	s->size = 0;
	s->audit_headers = 0;
	s->check_from = false;
	s->from.headers = s->from.addresses = 0;
	s->from.unparsable = false;
	s->from.bad[0] = '\0';
	s->from.bad_reason = NULL;
	memset(&s->report, 0, sizeof(s->report));
	s->in_message = false;
}

void session_copy(char *dst, size_t size, const char *value)
{
	size_t len;

	if (value == NULL) {
		dst[0] = '\0';
		return;
	}
	len = strnlen(value, size);
	if (len == size) {
		/* absurdly long: a cut value could equal a real one (a login
		   or an address that is its prefix), so keep none of it */
		len = 1;
		value = "?";
	}
	memcpy(dst, value, len);
	dst[len] = '\0';
}

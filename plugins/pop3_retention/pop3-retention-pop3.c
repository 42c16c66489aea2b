/* pop3-retention-pop3.c: the pop3 client hook (pop3 process only).
 *
 * When a POP3 client is created for a user of ours:
 *   - the session is linked to the user (the storage hooks act on its
 *     QUIT, the user's deinit ends the session);
 *   - messages with a DELE the plugin kept ($POP3Hidden) are left out of
 *     the session's listing, by Dovecot's own pop3_deleted_flag mechanism:
 *     the session's copy of the pop3 settings names our keyword (unless
 *     the admin set pop3_deleted_flag, which then wins and on_dele does
 *     not apply).  When on_dele is defer or hide, the copy also says
 *     pop3_delete_type = flag, so a DELE adds the keyword at QUIT instead
 *     of expunging (the storage hook adds the rest); with expunge, a DELE
 *     expunges as stock;
 *   - for an active user, CAPA's reply gets RFC 2449's
 *     "EXPIRE <days>|NEVER" line: a filter on the client's output
 *     recognizes the exact CAPA reply pop3 sends and adds the line.
 * The pop3 symbols are weak: this .so also loads in doveadm. */

#include "lib.h"
#include "ostream-private.h"
#include "pop3-common.h"
#include "pop3-settings.h"
#include "pop3-capability.h"
#include "pop3-retention-private.h"

#pragma weak pop3_client_created_hook_set

/* pop3's exact reply to CAPA (client_send_line() adds the CRLF) */
#define POP3_CAPA_REPLY "+OK\r\n" POP3_CAPABILITY_REPLY ".\r\n"

static pop3_client_created_func_t *next_hook = NULL;
static bool hook_set = FALSE;

struct capa_ostream {
	struct ostream_private ostream;
	char *reply;		/* the CAPA reply with our EXPIRE line */
};

static void o_stream_capa_destroy(struct iostream_private *stream)
{
	struct capa_ostream *cstream =
		container_of(stream, struct capa_ostream, ostream.iostream);

	i_free(cstream->reply);
	o_stream_unref(&cstream->ostream.parent);
}

static bool iov_equals(const struct const_iovec *iov, unsigned int iov_count,
		       const char *str, size_t len)
{
	unsigned int i;
	size_t pos = 0;

	for (i = 0; i < iov_count; i++) {
		if (iov[i].iov_len > len - pos ||
		    memcmp(iov[i].iov_base, str + pos, iov[i].iov_len) != 0)
			return FALSE;
		pos += iov[i].iov_len;
	}
	return pos == len;
}

static ssize_t
o_stream_capa_sendv(struct ostream_private *stream,
		    const struct const_iovec *iov, unsigned int iov_count)
{
	struct capa_ostream *cstream =
		container_of(stream, struct capa_ostream, ostream);
	ssize_t ret;

	if (iov_equals(iov, iov_count, POP3_CAPA_REPLY,
		       sizeof(POP3_CAPA_REPLY) - 1)) {
		/* the parent buffers without limit (pop3 creates it so):
		   all of it is taken, or the stream failed */
		if (o_stream_send_str(stream->parent, cstream->reply) < 0) {
			o_stream_copy_error_from_parent(stream);
			return -1;
		}
		ret = sizeof(POP3_CAPA_REPLY) - 1;
	} else if ((ret = o_stream_sendv(stream->parent, iov, iov_count)) < 0) {
		o_stream_copy_error_from_parent(stream);
		return -1;
	}
	stream->ostream.offset += ret;
	return ret;
}

static struct ostream *
o_stream_create_capa(struct ostream *output, const char *expire)
{
	struct capa_ostream *cstream = i_new(struct capa_ostream, 1);
	size_t keep = sizeof(POP3_CAPA_REPLY) - 1 - 3;	/* without ".\r\n" */

	cstream->reply = i_strdup_printf("%.*sEXPIRE %s\r\n.\r\n",
					 (int)keep, POP3_CAPA_REPLY, expire);
	cstream->ostream.sendv = o_stream_capa_sendv;
	cstream->ostream.iostream.destroy = o_stream_capa_destroy;
	return o_stream_create(&cstream->ostream, output,
			       o_stream_get_fd(output));
}

/* Leaves kept DELEs out of the session's listing (see above). */
static void pop3_retention_hide_kept(struct client *client,
				     struct pop3_retention_user *puser)
{
	struct pop3_settings *set;

	if (client->set->pop3_deleted_flag[0] != '\0') {
		e_debug(puser->event, "pop3_deleted_flag=%s is set: it hides "
			"DELE'd mail, not %s", client->set->pop3_deleted_flag,
			POP3_RETENTION_KW_HIDDEN);
		return;
	}
#if MP_DOVECOT_24
	/* settings_free(client->set) unrefs the pool: the copy lives in
	   the same pool and goes with it */
	set = p_new(client->set->pool, struct pop3_settings, 1);
#else
	set = p_new(client->pool, struct pop3_settings, 1);
#endif
	*set = *client->set;
	set->pop3_deleted_flag = POP3_RETENTION_KW_HIDDEN;
	if (puser->active && puser->retention.on_dele != MP_DELE_EXPUNGE)
		set->parsed_delete_type = POP3_DELETE_TYPE_FLAG;
	client->set = set;
}

static void pop3_retention_client_created(struct client **clientp)
{
	struct client *client = *clientp;
	struct pop3_retention_user *puser =
		pop3_retention_user_get(client->user);

	if (puser != NULL) {
		puser->pop3_client = client;
		pop3_retention_hide_kept(client, puser);
		if (puser->active) {
			char expire[32];
			struct ostream *output = client->output;

			client->output = o_stream_create_capa(output,
				mp_retention_expire_capa(&puser->retention,
							 expire, sizeof(expire)));
			o_stream_unref(&output);
		}
	}
	if (next_hook != NULL)
		next_hook(clientp);
}

void pop3_retention_pop3_init(void)
{
	if (pop3_client_created_hook_set == NULL || !mp_dovecot_binary_is("pop3"))
		return;
	next_hook = pop3_client_created_hook_set(pop3_retention_client_created);
	hook_set = TRUE;
}

void pop3_retention_pop3_deinit(void)
{
	if (!hook_set)
		return;
	(void)pop3_client_created_hook_set(next_hook);
	hook_set = FALSE;
}

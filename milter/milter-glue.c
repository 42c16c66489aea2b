/* milter-glue.c: libmilter's callbacks.  Thin: facts in from macros,
 * decisions from decision.c, replies and header changes out.
 *
 * Stages: negotiate turns off everything the current policy does not
 * need (connect, HELO, end of headers and unknown commands always; RCPT,
 * headers and body unless a listener needs them) and asks for no reply
 * on the stages it only observes (headers, body, and RCPT when no
 * listener refuses recipients but one counts them).  Everything a decision
 * needs is requested as MAIL-stage macros with smfi_setsymlist(), so
 * nothing is done before MAIL and Postfix's default macro settings are
 * enough.  MAIL is the first point where TLS and AUTH facts are final.
 *
 * DATA is turned off too, except on a TCP socket: there Postfix's smtpd
 * flushes the DATA macros alone when it hands the milter connection to
 * cleanup, and with nothing to answer, that small segment waits for our
 * delayed ACK while Nagle's algorithm holds back cleanup's end of
 * message behind it (up to 40 ms per message).  Answering DATA costs one
 * round trip and no stall.  A Unix socket has neither problem.
 *
 * Errors inside the milter (no memory, no session) answer TEMPFAIL. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfapi.h>

#include "alert.h"
#include "audit.h"
#include "glue.h"
#include "log.h"
#include "session.h"
#include "stats.h"

/* Everything a decision uses comes with MAIL.  Postfix still sends the
   macros of the stages we turn off, one-way: those lists are cut to one
   cheap macro (an empty list would mean Postfix's defaults). */
#define MAIL_MACROS "i {daemon_name} {daemon_port} {daemon_addr} " \
	"{client_addr} {auth_authen} {auth_type} {tls_version} j v _"
#define SKIPPED_MACROS "j"
/* the queue id exists from the first accepted recipient on */
#define RCPT_MACROS "i"
#define EOM_MACROS "i"

static bool glue_tcp;

static struct session *session_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static const char *macro(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

static const char *queue_id(const struct session *s)
{
	return s->queue_id[0] != '\0' ? s->queue_id : "NOQUEUE";
}

static sfsistat glue_negotiate(SMFICTX *ctx, unsigned long f0,
			       unsigned long f1, unsigned long f2,
			       unsigned long f3, unsigned long *pf0,
			       unsigned long *pf1, unsigned long *pf2,
			       unsigned long *pf3)
{
	struct milter_config *config = config_current();
	struct session *s;
	unsigned long want_no, want_nr, proto;

	(void)f2;
	(void)f3;
	if (config == NULL)
		return SMFIS_TEMPFAIL;
	s = session_new(config);
	if (s == NULL) {
		config_unref(&config);
		log_msg(LOG_ERR, "out of memory for a session");
		return SMFIS_TEMPFAIL;
	}
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		session_free(&s);
		return SMFIS_TEMPFAIL;
	}

	want_no = SMFIP_NOCONNECT | SMFIP_NOHELO |
		SMFIP_NOEOH | SMFIP_NOUNKNOWN;
	if (!glue_tcp)
		want_no |= SMFIP_NODATA;
	want_nr = 0;
	if ((config->stages & CONFIG_STAGE_RCPT) == 0)
		want_no |= SMFIP_NORCPT;
	else if ((config->stages & CONFIG_STAGE_RCPT_REPLY) == 0)
		want_nr |= SMFIP_NR_RCPT;
	if ((config->stages & CONFIG_STAGE_HEADER) == 0)
		want_no |= SMFIP_NOHDRS;
	else
		want_nr |= SMFIP_NR_HDR;
	if ((config->stages & CONFIG_STAGE_BODY) == 0)
		want_no |= SMFIP_NOBODY;
	else
		want_nr |= SMFIP_NR_BODY;
	/* only what the MTA offers */
	proto = (want_no | want_nr) & f1;
	s->protocol = (unsigned int)proto;
	*pf0 = 0;
	if ((config->stages & CONFIG_STAGE_HEADER) != 0)
		*pf0 |= (SMFIF_ADDHDRS | SMFIF_CHGHDRS) & f0;
	if ((config->stages & CONFIG_STAGE_HOLD) != 0)
		*pf0 |= SMFIF_QUARANTINE & f0;
	*pf1 = proto;
	*pf2 = 0;
	*pf3 = 0;
	if (smfi_setsymlist(ctx, SMFIM_CONNECT, SKIPPED_MACROS) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_HELO, SKIPPED_MACROS) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVFROM, MAIL_MACROS) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVRCPT, RCPT_MACROS) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_DATA, SKIPPED_MACROS) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_EOH, SKIPPED_MACROS) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_EOM, EOM_MACROS) != MI_SUCCESS)
		log_msg(LOG_WARNING, "cannot request macros: the MTA may "
			"not send {daemon_port} or {tls_version}");
	return SMFIS_CONTINUE;
}

/* text for smfi_setreply(), which the MTA reads as a format: each '%'
   doubled (Postfix drops a single one, Sendmail the whole text), so the
   client reads an address with a '%' as it sent it.  Into buf, which
   has twice the room of text. */
static char *reply_text(const char *text, char *buf, size_t size)
{
	size_t n = 0;

	for (; *text != '\0' && n + 2 < size; text++) {
		if (*text == '%')
			buf[n++] = '%';
		buf[n++] = *text;
	}
	buf[n] = '\0';
	return buf;
}

/* The reply for a refusal, or CONTINUE in report mode (recorded) and
   for a message put on hold (quarantined here). */
static sfsistat refuse(SMFICTX *ctx, struct session *s,
		       const struct milter_decision *d)
{
	char text[2 * sizeof(d->text)];
	bool report = s->config->milter->mode == MP_MODE_REPORT;
	const char *label = s->listener != NULL ? s->listener->label : "-";
	const char *word = milter_decision_word(d);

	stats_verdict(label, d->rule, word, s->login);
	if (d->hold) {
		log_msg(LOG_INFO, "%s: %s%s: listener=%s login=%s from=<%s> "
			"rule=%s: %s", queue_id(s),
			report ? "report: would " : "", word, label,
			s->login[0] != '\0' ? s->login : "-", s->sender,
			milter_rule_name(d->rule), d->text);
	} else {
		log_msg(LOG_INFO, "%s: %s%s: listener=%s login=%s from=<%s> "
			"rule=%s: %s %s %s", queue_id(s),
			report ? "report: would " : "", word, label,
			s->login[0] != '\0' ? s->login : "-", s->sender,
			milter_rule_name(d->rule), d->rcode, d->xcode,
			d->text);
	}
	if (report) {
		if (s->report.rule == MILTER_RULE_NONE)
			s->report = *d;
		return SMFIS_CONTINUE;
	}
	if (d->hold) {
		char reason[sizeof(d->text) + 16];

		snprintf(reason, sizeof(reason), "mailpolicy: %s", d->text);
		if (smfi_quarantine(ctx, reason) != MI_SUCCESS) {
			/* the MTA did not grant quarantine: refuse for
			   now rather than let it through over the limit */
			log_msg(LOG_ERR, "%s: cannot put the message on hold "
				"(smfi_quarantine failed): tempfail",
				queue_id(s));
			smfi_setreply(ctx, (char *)"451", (char *)"4.3.0",
				      (char *)"rate limit reached, and the "
				      "message cannot be held: try again "
				      "later");
			return SMFIS_TEMPFAIL;
		}
		return SMFIS_CONTINUE;
	}
	if (smfi_setreply(ctx, (char *)d->rcode, (char *)d->xcode,
			  reply_text(d->text, text, sizeof(text))) !=
	    MI_SUCCESS)
		log_msg(LOG_WARNING, "%s: cannot set the reply text",
			queue_id(s));
	return d->verdict == MP_VERDICT_REJECT ? SMFIS_REJECT :
		SMFIS_TEMPFAIL;
}

/* SIZE=N among the ESMTP arguments of MAIL FROM. */
static uint64_t size_param(char **args)
{
	for (; args != NULL && *args != NULL; args++) {
		const char *v;
		uint64_t n = 0;

		if (strncasecmp(*args, "SIZE=", 5) != 0)
			continue;
		v = *args + 5;
		if (*v == '\0')
			return 0;
		for (; *v != '\0'; v++) {
			if (*v < '0' || *v > '9')
				return 0;
			if (n > (UINT64_MAX - 9) / 10)
				return UINT64_MAX;
			n = n * 10 + (uint64_t)(*v - '0');
		}
		return n;
	}
	return 0;
}

/* "<a@b>" -> "a@b" into dst. */
static void copy_address(char *dst, size_t size, const char *arg)
{
	size_t len;

	if (arg == NULL) {
		dst[0] = '\0';
		return;
	}
	len = strlen(arg);
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		if (len - 2 >= size) {
			session_copy(dst, 2, "?");
			return;
		}
		memcpy(dst, arg + 1, len - 2);
		dst[len - 2] = '\0';
		return;
	}
	session_copy(dst, size, arg);
}

static sfsistat glue_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = session_of(ctx);
	struct milter_facts *f;
	struct milter_decision d;
	const char *addr, *error, *port;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	session_reset_message(s);
	s->in_message = true;
	f = &s->facts;
	session_copy(s->daemon_name, sizeof(s->daemon_name),
		     macro(ctx, "{daemon_name}"));
	session_copy(s->login, sizeof(s->login), macro(ctx, "{auth_authen}"));
	session_copy(s->auth_type, sizeof(s->auth_type),
		     macro(ctx, "{auth_type}"));
	session_copy(s->tls_version, sizeof(s->tls_version),
		     macro(ctx, "{tls_version}"));
	session_copy(s->queue_id, sizeof(s->queue_id), macro(ctx, "i"));
	copy_address(s->sender, sizeof(s->sender),
		     argv != NULL ? argv[0] : NULL);
	f->daemon_name = s->daemon_name;
	port = macro(ctx, "{daemon_port}");
	f->port = milter_parse_port(port);
	/* Postfix's cleanup, for mail from sendmail(1), says port 0 */
	s->non_smtp = port != NULL && strcmp(port, "0") == 0;
	addr = macro(ctx, "{client_addr}");
	f->client_known = addr != NULL &&
		mp_addr_parse(addr, &f->client, &error) == 0;
	f->login = s->login;
	f->auth_type = s->auth_type;
	f->tls_version = s->tls_version;
	f->sender = s->sender;
	f->size_param = argv != NULL && argv[0] != NULL ?
		size_param(argv + 1) : 0;

	s->listener = milter_listener(s->config->policy, f);
	if (s->listener == NULL) {
		milter_decide_unknown(s->config->policy, f, &d);
		if (d.verdict == MP_VERDICT_ACCEPT)
			return SMFIS_CONTINUE;
		return refuse(ctx, s, &d);
	}
	s->check_from = milter_checks_header_from(s->listener, f);
	milter_decide_mail(s->config->policy, s->listener, f, &d);
	if (d.verdict != MP_VERDICT_ACCEPT)
		return refuse(ctx, s, &d);
	return SMFIS_CONTINUE;
}

static sfsistat glue_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = session_of(ctx);
	struct milter_decision d;
	sfsistat ret;

	(void)argv;
	if (s == NULL)
		return SMFIS_TEMPFAIL;
	if ((s->protocol & SMFIP_NR_RCPT) != 0) {
		/* only counted (recipient rate keys): Postfix has accepted
		   this recipient and waits for no answer */
		s->rcpts++;
		return SMFIS_NOREPLY;
	}
	if (s->listener == NULL)
		return SMFIS_CONTINUE;
	milter_decide_rcpt(s->listener, s->rcpts + 1, &d);
	if (d.verdict == MP_VERDICT_ACCEPT) {
		s->rcpts++;
		return SMFIS_CONTINUE;
	}
	if (s->non_smtp) {
		/* Postfix cannot refuse one recipient of local mail (it
		   would hold the message as a configuration error): the
		   message is refused at its end instead */
		s->rcpts++;
		s->too_many_rcpts = true;
		return SMFIS_CONTINUE;
	}
	if (s->queue_id[0] == '\0')
		session_copy(s->queue_id, sizeof(s->queue_id), macro(ctx, "i"));
	ret = refuse(ctx, s, &d);
	if (ret == SMFIS_CONTINUE)
		s->rcpts++;	/* report mode: the recipient stays */
	return ret;
}

static sfsistat observed(const struct session *s, unsigned int nr_flag)
{
	return (s->protocol & nr_flag) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat glue_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = session_of(ctx);
	const char *ours;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	ours = s->config->milter->audit_header;
	if (ours[0] != '\0' && strcasecmp(name, ours) == 0)
		s->audit_headers++;
	if (s->check_from && strcasecmp(name, "From") == 0)
		milter_from_header(s->config->policy, s->listener, &s->facts,
				   value, &s->from);
	/* "Name: value\r\n" */
	s->size += strlen(name) + strlen(value) + 4;
	return observed(s, SMFIP_NR_HDR);
}

static sfsistat glue_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = session_of(ctx);

	(void)chunk;
	if (s == NULL)
		return SMFIS_TEMPFAIL;
	s->size += len;
	return observed(s, SMFIP_NR_BODY);
}

/* Logs a key that went over its limit (once per trip, see stats.h) and
   runs the alert command for it (enforce mode). */
static void rate_tripped(struct session *s, const struct milter_rate_batch *b,
			 size_t i, uint64_t now_ms)
{
	const struct mp_rate_item *item = &b->items[i];
	const struct mp_limit_origin *o = &b->limits.origin[b->key[i]];
	struct alert_event ev;
	char rate[48], source[MILTER_VALUE_MAX + 32];

	if (!stats_rate_tripped(item->key, now_ms))
		return;
	mp_units_format_rate(&item->rate, rate, sizeof(rate));
	if (o->entry != NULL)
		snprintf(source, sizeof(source), "rate_map:%s", o->entry);
	else
		snprintf(source, sizeof(source), "%s",
			 mp_limit_source_name(o->source));
	log_msg(LOG_WARNING, "%s: rate limit tripped: listener=%s rule=%s "
		"key=%s limit=%s count=%llu login=%s source=%s", queue_id(s),
		s->listener->label, milter_rule_name(milter_rate_rule(b->key[i])),
		item->key, rate, (unsigned long long)item->result.count,
		s->login[0] != '\0' ? s->login : "-", source);
	if (s->config->milter->mode != MP_MODE_ENFORCE)
		return;
	ev.queue_id = queue_id(s);
	ev.listener = s->listener->label;
	ev.key = b->key[i];
	ev.value = b->value[i];
	ev.window = item->rate;
	ev.count = item->result.count;
	ev.login = s->login;
	ev.counter = item->key;
	alert_tripped(s->config, &ev);
}

/* Checks the message against every window of every rate key that
   applies to it and, when all have room, counts it: one call to the
   store (one Redis round trip) whatever the number of keys. */
static void check_rates(struct session *s, struct milter_decision *d)
{
	struct mp_rate_store *store = config_rate_store(s->config);
	struct milter_rate_batch b;
	enum mp_rate_status status;
	uint64_t now_ms;
	const char *error = NULL;

	d->verdict = MP_VERDICT_ACCEPT;
	d->hold = false;
	d->rule = MILTER_RULE_NONE;
	if (store == NULL || milter_rate_batch(s->config->policy, s->listener,
					       &s->facts, s->rcpts, &b) == 0)
		return;
	now_ms = mp_rate_clock_ms();
	status = mp_rate_check_items(store, b.items, b.count, now_ms, &error);
	if (status == MP_RATE_FAILED) {
		static uint64_t last_log_ms;

		/* one line per 10 s while the store is down, not one per
		   message */
		if (now_ms - __atomic_load_n(&last_log_ms, __ATOMIC_RELAXED) >=
		    10000) {
			__atomic_store_n(&last_log_ms, now_ms,
					 __ATOMIC_RELAXED);
			log_msg(LOG_WARNING, "%s: rate store failed (%s), "
				"rate_store_failure = %s", queue_id(s),
				error != NULL ? error : "?",
				mp_verdict_name(s->config->milter->
						rate_store_failure));
		}
	}
	for (size_t i = 0; i < b.count && status != MP_RATE_FAILED; i++) {
		if (b.items[i].status == MP_RATE_LIMITED)
			rate_tripped(s, &b, i, now_ms);
		else if (status == MP_RATE_ALLOWED)
			stats_rate_cleared(b.items[i].key);
	}
	milter_decide_rate(s->listener, status, &b,
			   s->config->milter->rate_store_failure, d);
}

static void add_audit_header(SMFICTX *ctx, struct session *s,
			     const struct milter_decision *d)
{
	const struct mp_milter_settings *m = s->config->milter;
	struct audit_fields f;
	char value[AUDIT_VALUE_MAX];

	if (m->audit_header[0] == '\0')
		return;
	/* forged ones first, from the last so indices stay valid; also
	   where the listener adds none (add_audit_header = no) */
	for (unsigned int i = s->audit_headers; i >= 1; i--) {
		if (smfi_chgheader(ctx, (char *)m->audit_header, (int)i,
				   NULL) != MI_SUCCESS)
			log_msg(LOG_WARNING, "%s: cannot remove header %s",
				queue_id(s), m->audit_header);
	}
	if (s->listener != NULL && !s->listener->add_audit_header)
		return;
	f.queue_id = s->queue_id;
	f.listener = s->listener != NULL ? s->listener->label : NULL;
	f.login = s->login;
	f.tls = s->tls_version;
	f.verdict = milter_decision_word(d);
	f.rule = milter_rule_name(d->rule);
	f.mode = mp_milter_mode_name(m->mode);
	audit_value(&f, s->config->hmac_key, s->config->hmac_key_len, value);
	if (smfi_insheader(ctx, 0, (char *)m->audit_header, value) !=
	    MI_SUCCESS)
		log_msg(LOG_WARNING, "%s: cannot add header %s", queue_id(s),
			m->audit_header);
}

static sfsistat glue_eom(SMFICTX *ctx)
{
	struct session *s = session_of(ctx);
	struct milter_decision d;
	sfsistat ret = SMFIS_CONTINUE;
	const char *id;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	id = macro(ctx, "i");
	if (id != NULL)
		session_copy(s->queue_id, sizeof(s->queue_id), id);
	if (s->listener != NULL && s->report.rule == MILTER_RULE_NONE) {
		if (s->too_many_rcpts)
			milter_decide_recipients(s->listener, s->rcpts, &d);
		else
			milter_decide_size(s->listener, s->size, &d);
		if (d.verdict == MP_VERDICT_ACCEPT)
			milter_decide_header_from(s->listener, &s->facts,
						  &s->from, &d);
		/* rates last: a message refused for anything else is not
		   counted */
		if (d.verdict == MP_VERDICT_ACCEPT)
			check_rates(s, &d);
		if (d.verdict != MP_VERDICT_ACCEPT || d.hold) {
			ret = refuse(ctx, s, &d);
			if (ret == SMFIS_CONTINUE && d.hold)
				s->report = d;	/* the header says hold */
		}
	}
	if (ret == SMFIS_CONTINUE) {
		/* accepted, held, or report mode: what enforce would do */
		add_audit_header(ctx, s, &s->report);
	}
	session_reset_message(s);
	return ret;
}

static sfsistat glue_data(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat glue_abort(SMFICTX *ctx)
{
	struct session *s = session_of(ctx);

	if (s != NULL)
		session_reset_message(s);
	return SMFIS_CONTINUE;
}

static sfsistat glue_close(SMFICTX *ctx)
{
	struct session *s = session_of(ctx);

	if (s != NULL) {
		stats_session();
		smfi_setpriv(ctx, NULL);
		session_free(&s);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc glue_desc = {
	.xxfi_name = (char *)"mailpolicy-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = NULL,
	.xxfi_helo = NULL,
	.xxfi_envfrom = glue_envfrom,
	.xxfi_envrcpt = glue_envrcpt,
	.xxfi_header = glue_header,
	.xxfi_eoh = NULL,
	.xxfi_body = glue_body,
	.xxfi_eom = glue_eom,
	.xxfi_abort = glue_abort,
	.xxfi_close = glue_close,
	.xxfi_unknown = NULL,
	.xxfi_data = glue_data,
	.xxfi_negotiate = glue_negotiate,
};

int glue_register(bool tcp)
{
	glue_tcp = tcp;
	return smfi_register(glue_desc) == MI_SUCCESS ? 0 : -1;
}

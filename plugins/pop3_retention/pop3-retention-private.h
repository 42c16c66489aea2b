#ifndef POP3_RETENTION_PRIVATE_H
#define POP3_RETENTION_PRIVATE_H

/* pop3_retention: server-side retention of the mail POP3 clients leave on
 * the server (DESIGN.md, "pop3_retention"; mailpolicy-dovecot(7)).
 *
 * How it works.  In the pop3 process, the mail vfuncs see a RETR (the
 * stream is asked for with reason "RETR") and a DELE applied at QUIT
 * (expunge); the QUIT's commit of the session transaction is where the
 * retrievals are stamped, so nothing counts unless the session reached
 * the UPDATE state.  A message's state lives in the mailbox: keywords as
 * the durable, replicated markers, and an index extension with the times.
 * The decisions (what expires when) are the core's (retention.h).  At the
 * end of a session (the user's deinit, after the client is gone) and in
 * `doveadm pop3-retention sweep`, expired messages are expunged.
 *
 * Files by role:
 *   pop3-retention-plugin.c   registration
 *   pop3-retention-user.c     the user's effective retention, user context
 *   pop3-retention-state.c    a message's state: keywords + index extension
 *   pop3-retention-storage.c  lib-storage hooks: RETR, DELE, \Seen, QUIT
 *   pop3-retention-pop3.c     the pop3 client hook: hiding kept DELEs, CAPA
 *   pop3-retention-session.c  end of session: on_retrieve = move, purge
 *   pop3-retention-purge.c    the purge of one mailbox (session and sweep)
 *   pop3-retention-uidl.c     the UIDL a POP3 client sees, for `status`
 *   doveadm-pop3-retention.c  doveadm pop3-retention sweep | status
 */

#include "mp-dovecot.h"
#include "mailpolicy/retention.h"
#include "module-context.h"
#include "seq-range-array.h"
#include "mail-user.h"
#include "mail-storage-private.h"

#define POP3_RETENTION_NAME "pop3_retention"

/* The durable markers (IMAP keywords, replicated by dsync). */
#define POP3_RETENTION_KW_RETRIEVED "$POP3Retrieved"
/* Every DELE the plugin kept: hidden from POP3 (Dovecot's own
   pop3_deleted_flag mechanism lists without it). */
#define POP3_RETENTION_KW_HIDDEN "$POP3Hidden"
/* Added to $POP3Hidden when the DELE was deferred (on_dele = defer). */
#define POP3_RETENTION_KW_DEFERRED "$POP3Deferred"

/* Index extensions with the times (UNIX time, 32 bits: until 2106); a
   missing or zero record under a marker means "lost": re-stamped now. */
#define POP3_RETENTION_EXT_RETRIEVED "pop3-retention-retrieved"
#define POP3_RETENTION_EXT_DELETED "pop3-retention-deleted"

/* Bounded work at the end of a POP3 session: at most this many tracked
   messages looked at and this many expunged (the rest wait for the next
   session or a sweep); the max_retained_size check only when all of the
   mailbox's retained messages were looked at. */
#define POP3_RETENTION_SESSION_MAX_EXPUNGES 1000
#define POP3_RETENTION_SESSION_MAX_EXAMINED 100000

ARRAY_DEFINE_TYPE(mp_retention_item_arr, struct mp_retention_item);

#define POP3_RETENTION_USER_CONTEXT(obj) \
	MODULE_CONTEXT(obj, pop3_retention_user_module)
#define POP3_RETENTION_CONTEXT(obj) \
	MODULE_CONTEXT(obj, pop3_retention_storage_module)
#define POP3_RETENTION_MAIL_CONTEXT(obj) \
	MODULE_CONTEXT(obj, pop3_retention_mail_module)

struct client;

struct pop3_retention_user {
	union mail_user_module_context module_ctx;
	struct event *event;

	/* The user's policy (file + userdb overrides; NULL when the file
	   cannot be loaded) and the effective retention, meaningful when
	   active; its strings (retrieve_mailbox) live in user_policy. */
	struct mp_user_policy *user_policy;
	struct mp_retention retention;
	/* the policy loaded and a pop3_retention block (or a userdb field)
	   applies to the user: otherwise the plugin is inert for the user */
	bool active;

	/* ---- the POP3 session (pop3 process only) ---- */
	struct client *pop3_client;
	/* UIDs whose stream was opened for RETR in this session */
	ARRAY_TYPE(seq_range) retr_uids;
	/* the QUIT's commit stamped them: the session reached UPDATE */
	bool quit_applied;
	/* the mailbox's UIDVALIDITY when retr_uids were recorded */
	uint32_t retr_uid_validity;
	/* our own expunges: not a client DELE */
	bool purging;
	/* the policy cannot be loaded and the QUIT applied a DELE: its
	   commit fails (pop3-retention-storage.c) */
	bool dele_refused;
	/* the folder of on_retrieve = move is outside the personal
	   namespace (logged once) */
	bool move_box_refused;
};

/* Per mailbox: the keyword indexes and extension ids, looked up once. */
struct pop3_retention_mailbox {
	union mailbox_module_context module_ctx;
	struct mail_keywords *kw_retrieved, *kw_hidden, *kw_deferred;
	struct mail_keywords *kw_hidden_deferred;
	uint32_t ext_retrieved, ext_deleted;
	bool ids_ready;
	/* the INBOX of a POP3 session */
	bool pop3_session;
};

extern MODULE_CONTEXT_DEFINE(pop3_retention_user_module,
			     &mail_user_module_register);
extern MODULE_CONTEXT_DEFINE(pop3_retention_storage_module,
			     &mail_storage_module_register);
extern MODULE_CONTEXT_DEFINE(pop3_retention_mail_module,
			     &mail_module_register);

/* pop3-retention-user.c */
void pop3_retention_mail_user_created(struct mail_user *user);
/* The user's context, NULL when the plugin has none for the user. */
struct pop3_retention_user *pop3_retention_user_get(struct mail_user *user);
/* The mailbox name of on_retrieve = move as a vname of the user's INBOX
   namespace ("/" in the policy becomes the separator, the prefix added). */
const char *pop3_retention_move_vname(struct mail_user *user,
				      const char *name);
/* The mailbox of on_retrieve = move, allocated (not opened); NULL (logged)
   when its name leads out of the user's INBOX namespace. */
struct mailbox *pop3_retention_move_box_alloc(struct mail_user *user);

/* pop3-retention-state.c */
/* Looks up keyword indexes and extension ids of box (once). */
struct pop3_retention_mailbox *pop3_retention_mailbox_get(struct mailbox *box);
void pop3_retention_mailbox_free_ids(struct pop3_retention_mailbox *pbox);
/* The state of the mail (its sequence set in its transaction). */
void pop3_retention_msg_read(struct mail *mail, struct mp_retention_msg *msg_r);
/* when as a stored time: 1 at least (0 means "lost"), UINT32_MAX at most */
uint32_t pop3_retention_time32(time_t when);
void pop3_retention_set_retrieved_at(struct mail *mail, uint32_t when);
void pop3_retention_set_deleted_at(struct mail *mail, uint32_t when);
/* Adds the retrieval marker and stamps now, or re-stamps a lost time;
   leaves a known first-retrieval time alone. */
void pop3_retention_mark_retrieved(struct mail *mail, time_t now);
/* A search for the messages the plugin tracks: retrieved or DELE'd. */
struct mail_search_args *pop3_retention_search_tracked(struct mailbox *box);

/* pop3-retention-storage.c */
void pop3_retention_mailbox_allocated(struct mailbox *box);
void pop3_retention_mail_allocated(struct mail *mail);

/* pop3-retention-pop3.c */
void pop3_retention_pop3_init(void);
void pop3_retention_pop3_deinit(void);

/* pop3-retention-session.c: the end of a POP3 session, from the user's
   deinit. */
void pop3_retention_session_end(struct mail_user *user);

/* pop3-retention-purge.c */
struct pop3_retention_purge_msg {
	uint32_t uid;
	uoff_t size;
	enum mp_expire_reason reason;
	const struct mp_retention_verdict *verdict;
};
struct pop3_retention_purge_settings {
	/* decide as if the clock read this */
	time_t as_of;
	/* report, change nothing (not even re-stamps) */
	bool dry_run;
	/* 0 = no limit */
	unsigned int max_expunges;
	unsigned int max_examined;	/* 0 = no limit */
	/* called for each message expunged (or that would be) */
	void (*expunged)(void *ctx, struct mail *mail,
			 const struct pop3_retention_purge_msg *msg);
	void *context;
};
struct pop3_retention_purge_result {
	unsigned int examined, expunged, restamped;
	unsigned int by_reason[MP_EXPIRE_SIZE + 1];
	uint64_t bytes;
	bool cap_skipped;	/* not all retained seen: no cap check */
	bool limited;		/* max_expunges or max_examined stopped it */
};
/* Purges box (opened here if needed) for user under its retention.
   Returns 0, or -1 with the storage error logged on the user's event. */
int pop3_retention_purge_mailbox(struct mail_user *user, struct mailbox *box,
				 const struct pop3_retention_purge_settings *set,
				 struct pop3_retention_purge_result *result_r);
/* One log line and one event ("pop3_retention_purge": user, mailbox,
   messages, bytes) for a purge batch that expunged something. */
void pop3_retention_purge_log(struct mail_user *user, const char *vname,
			      const char *trigger,
			      const struct pop3_retention_purge_result *result);

/* pop3-retention-uidl.c: the UIDL stock POP3 shows for mail. */
const char *pop3_retention_uidl(struct mail *mail, uint32_t uid_validity);

/* doveadm-pop3-retention.c */
void pop3_retention_doveadm_register(void);

#endif

#ifndef FOLDER_QUOTA_PLUGIN_H
#define FOLDER_QUOTA_PLUGIN_H

/* folder_quota: per-folder storage and message quotas for Dovecot, as
 * quota roots of Dovecot's own quota plugin.
 *
 * Each folder that a folder_quota rule governs (the folder itself for
 * scope = folder, the top folder for scope = subtree) is one quota root
 * named "Folder <folder>", of the backend "folder_quota", whose match_box
 * selects the mailboxes it governs.  The stock quota code then enforces
 * it on every save and reports it in GETQUOTAROOT/GETQUOTA and
 * `doveadm quota get`, beside the user's own roots: the lowest limit wins.
 *
 * Files by role: folder-quota-plugin.c (registration, user hooks),
 * folder-quota-roots.c (the set of roots of a user: when they are added
 * and removed), folder-quota-backend.c (the quota backend: usage from the
 * index), folder-quota-storage.c (lib-storage hooks: MOVE, delivery,
 * error texts), folder-quota-expunge.c (when_full = expunge_oldest),
 * folder-quota-imap.c (IMAP only: capabilities, STATUS DELETED and
 * DELETED-STORAGE), fq-policy.c (the rules), fq-compat.h (2.3/2.4). */

#include "lib.h"
#include "array.h"
#include "hash.h"
#include "module-context.h"
#include "mail-user.h"
#include "mail-storage-private.h"
#include "quota-private.h"
#include "quota-plugin.h"

#include "fq-compat.h"
#include "fq-policy.h"

#define FOLDER_QUOTA_BACKEND_NAME "folder_quota"
#define FOLDER_QUOTA_ROOT_PREFIX "Folder "
#define FOLDER_QUOTA_LOG_PREFIX "folder_quota: "
/* A user gets at most this many folder roots; past it, no new ones are
   added (and that is logged once): the cost of every quota check grows
   with the number of roots. */
#define FOLDER_QUOTA_MAX_ROOTS 1000

#define FQ_USER_CONTEXT(obj) \
	MODULE_CONTEXT(obj, fq_user_module)
#define FQ_USER_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, fq_user_module)

extern MODULE_CONTEXT_DEFINE(fq_user_module, &mail_user_module_register);
extern struct quota_backend fq_backend;

/* What a folder root governs and its limits. */
struct fq_root_spec {
	const char *vname;	/* the governed folder, as the client sees it */
	enum mp_folder_scope scope;
	uint64_t storage;	/* bytes, 0 = none */
	uint64_t messages;	/* 0 = none */
	bool expunge_oldest;
};

ARRAY_DEFINE_TYPE(fq_root_spec, struct fq_root_spec);

/* A folder root: a stock quota root of our backend. */
struct fq_root {
	struct quota_root root;	/* must be first */
	struct fq_user *fuser;

	char *vname;		/* governed folder (UTF-8 vname) */
	char *name;		/* "Folder " + the folder in modified UTF-7 */
	enum mp_folder_scope scope;
	bool expunge_oldest;
	uint64_t storage_limit, message_limit;

	/* usage, cached for one ioloop run as the count backend does */
	struct timeval cache_tv;
	uint64_t cached_bytes, cached_count;
};

enum fq_filter_mode {
	FQ_FILTER_UNDECIDED = 0,
	FQ_FILTER_SHARED,
	FQ_FILTER_PER_ROOT,
};

struct fq_usage {
	uint64_t vsize;
	uint32_t messages;
	bool have_vsize:1;
	bool have_messages:1;
};

enum fq_pending_op {
	FQ_PENDING_ADD,
	FQ_PENDING_REMOVE,
};

struct fq_pending {
	enum fq_pending_op op;
	struct fq_root_spec spec;
};

/* The oldest messages of a transaction's mailbox that when_full =
   expunge_oldest chose to make room for the transaction's saves.  They are
   expunged once the transaction has committed, and never when it does not:
   a save refused later (a MULTIAPPEND's or a COPY's next message, the
   user's own quota) then costs no mail, and a COPY within the folder has
   copied its messages before they go. */
struct fq_expunge_plan {
	ARRAY(uint32_t) uids;
	uint64_t bytes, count;
	/* the root that asked first, for the log line */
	char *root_name;
};

struct fq_user {
	union mail_user_module_context module_ctx;
	struct mail_user *user;
	struct event *event;
	struct quota *quota;

	struct fq_rules *rules;
	/* the namespace whose folders are governed: the user's inbox one */
	struct mail_namespace *ns;
	char sep;

	ARRAY(struct fq_root *) roots;
	pool_t pending_pool;
	ARRAY(struct fq_pending) pending;

	/* 2.4: how roots get their settings, and the filter names given to
	   roots of their own, by folder (see folder-quota-roots.c) */
	enum fq_filter_mode filter_mode;
	ARRAY(char *) filter_folders;
	/* 2.4: the governed mailboxes whose quota settings have been made
	   what their roots need (fq_roots_box_settings()) */
	ARRAY(char *) settings_checked;
	unsigned int settings_checked_generation;
	/* the root being made, for fq_backend_init(), and what it made */
	const struct fq_root_spec *creating;
	struct fq_root *created;

	/* mailbox transactions open right now: roots are added and removed
	   only when none is (the quota plugin sizes per-transaction state by
	   the roots that exist when a transaction begins) */
	unsigned int open_transactions;
	/* 2.4: > 0 while the quota plugin begins or commits a transaction
	   of the user (see fq_backend_match_box()) */
	unsigned int quota_tx_calls;
	/* usage read this ioloop run, by vname (folder-quota-storage.c) */
	HASH_TABLE(char *, struct fq_usage *) usage_cache;
	pool_t usage_pool;
	struct timeval usage_tv;

	/* when the policy file was last looked at (safe points) */
	time_t reload_checked;

	/* bumped whenever the rules change, so mailboxes re-match */
	unsigned int generation;

	/* the quota plugin's test_alloc hook we wrap */
	enum quota_alloc_result (*next_test_alloc)(FQ_TEST_ALLOC_ARGS);
	/* the refusal text a folder limit gives, and the stock one */
	string_t *refusal_text;
	const char *refusal_ptr, *stock_refusal_text;

	/* room a MOVE check just made in freed_box (by expunge_oldest), not
	   yet known to the quota plugin's check of the same save */
	struct mailbox *freed_box;
	uint64_t freed_bytes, freed_count;

	/* LMTP and LDA: INBOX folder limits never refuse a delivery */
	bool delivery:1;
	bool ready:1;
	bool max_roots_logged:1;
};

/* folder-quota-plugin.c */
const char *fq_root_name(const char *vname);

/* folder-quota-roots.c */
void fq_roots_user_init(struct fq_user *fuser);
void fq_roots_user_deinit(struct fq_user *fuser);
/* Adds the roots of every existing governed folder (one LIST). */
void fq_roots_scan(struct fq_user *fuser);
/* Matches vname (a mailbox of fuser->ns) against the rules.  Returns the
   number of governing roots; specs_r (data stack) gets them, deepest
   first. */
unsigned int fq_roots_match(struct fq_user *fuser, const char *vname,
			    const struct fq_root_spec **specs_r);
struct fq_root *fq_roots_find(struct fq_user *fuser, const char *vname);
/* Queues adding the roots that govern vname (a mailbox that must exist
   when they are added), or removing the roots of vname and its subtree. */
void fq_roots_queue_add(struct fq_user *fuser, const char *vname);
void fq_roots_queue_remove(struct fq_user *fuser, const char *vname);
/* Dovecot 2.4: makes the quota settings of the roots governing box, as a
   lookup for box sees them (the admin's mailbox blocks), what the roots
   need, once per mailbox and session; before a transaction in box. */
void fq_roots_box_settings(struct fq_user *fuser, struct mailbox *box);
/* A point where no quota code is on the stack and, unless
   open_transactions > 0, roots may change: applies what is queued and
   re-reads the policy when the file changed (if reload). */
void fq_roots_safe_point(struct fq_user *fuser, bool reload);

/* folder-quota-backend.c */
/* Current usage of the root, from the index (cached per ioloop run). */
int fq_root_get_usage(struct fq_root *froot, uint64_t *bytes_r,
		      uint64_t *count_r, const char **error_r);
void fq_root_set_limits(struct fq_root *froot, const struct fq_root_spec *spec);
/* Forgets the cached usage of the roots that govern box (what the quota
   plugin's update() of a root does after a transaction in it). */
void fq_roots_forget_usage(struct mailbox *box);
/* Usage of a single mailbox (virtual size and messages), from the index. */
int fq_mailbox_get_usage(struct fq_user *fuser, const char *vname,
			 uint64_t *bytes_r, uint64_t *count_r,
			 const char **error_r);

/* folder-quota-storage.c */
void fq_mailbox_allocated(struct mailbox *box);
/* The expunge plan of the one transaction open on box (this instance),
   NULL when there is none or more than one. */
struct fq_expunge_plan *fq_mailbox_plan(struct mailbox *box);
/* The roots (ours) that govern box; NULL/0 when none. */
unsigned int fq_mailbox_roots(struct mailbox *box, struct fq_root ***roots_r);
bool fq_mailbox_is_governed_by(struct mailbox *box, struct fq_root *froot);
/* "Quota exceeded in folder X (Folder X: n of m messages)" */
const char *fq_over_text(struct fq_root *froot, uint64_t bytes, uint64_t count);

/* The virtual size and message count of a mailbox of fuser->ns as read in
   this ioloop run by anyone (the count backend does for every mailbox),
   FALSE when not both are known; a change to the mailbox in this process
   forgets them. */
bool fq_usage_cache_get(struct fq_user *fuser, const char *vname,
			uint64_t *bytes_r, uint64_t *count_r);
void fq_usage_cache_forget(struct fq_user *fuser, const char *vname);
void fq_usage_cache_deinit(struct fq_user *fuser);

/* folder-quota-expunge.c */
void fq_expunge_user_init(struct fq_user *fuser);
/* Adds to plan the oldest (by save date) messages of box that are not in
   it yet, until they free at least bytes_needed bytes and count_needed
   messages, and no more; only when those also free others_bytes and
   others_count (what the other roots that refuse the save need): all or
   nothing.  Returns 1 when done (what they free in *_r), 0 when that
   cannot be (plan unchanged), -1 on error. */
int fq_expunge_choose(struct fq_user *fuser, struct mailbox *box,
		      struct fq_expunge_plan *plan, struct fq_root *froot,
		      uint64_t bytes_needed, uint64_t count_needed,
		      uint64_t others_bytes, uint64_t others_count,
		      uint64_t *bytes_freed_r, uint64_t *count_freed_r);
/* Expunges the messages of plan from the mailbox vname of list (after the
   transaction they made room for committed), and empties plan. */
void fq_expunge_plan_run(struct fq_user *fuser, struct mailbox_list *list,
			 const char *vname, struct fq_expunge_plan *plan);
void fq_expunge_plan_free(struct fq_expunge_plan *plan);

/* Notes room expunge_oldest made in box for the save in progress (box
   NULL: forget it). */
void fq_note_freed(struct fq_user *fuser, struct mailbox *box,
		   uint64_t bytes, uint64_t count);

/* folder-quota-imap.c */
void fq_imap_init(struct module *module);
void fq_imap_deinit(void);

#endif

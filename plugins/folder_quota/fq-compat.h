#ifndef FQ_COMPAT_H
#define FQ_COMPAT_H

/* fq-compat.h: what differs between Dovecot 2.3 and 2.4 in the quota
 * plugin's internals that folder_quota reaches into, chosen at build time
 * from the Dovecot headers found; the rest of the plugin is written once
 * for both. */

#include "mp-dovecot.h"

#define FQ_DOVECOT24 MP_DOVECOT_24

#if FQ_DOVECOT24
/* 2.4: the quota's roots (all_roots), the test_alloc hook's shape. */
#  define FQ_QUOTA_ROOTS(quota) (&(quota)->all_roots)
#  define FQ_TEST_ALLOC_ARGS \
	struct quota_transaction_context *ctx, uoff_t size, \
	struct mailbox *expunged_box, uoff_t expunged_size, \
	const struct quota_overrun **overruns_r, const char **error_r
#  define FQ_TEST_ALLOC_CALL(fn) \
	(fn)(ctx, size, expunged_box, expunged_size, overruns_r, error_r)
#  define FQ_QUOTA_TEST_ALLOC(quota) ((quota)->test_alloc)
/* imap: command_find() returns a const struct command on 2.4 */
#  define FQ_CONST_COMMAND const
#else
#  define FQ_QUOTA_ROOTS(quota) (&(quota)->roots)
#  define FQ_TEST_ALLOC_ARGS \
	struct quota_transaction_context *ctx, uoff_t size, \
	const char **error_r
#  define FQ_TEST_ALLOC_CALL(fn) (fn)(ctx, size, error_r)
#  define FQ_QUOTA_TEST_ALLOC(quota) ((quota)->set->test_alloc)
#  define FQ_CONST_COMMAND
#endif

#endif

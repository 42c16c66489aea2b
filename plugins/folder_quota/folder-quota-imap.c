/* folder-quota-imap.c: IMAP only (placeholder). */

#include "lib.h"
#include "folder-quota-plugin.h"

void fq_imap_init(struct module *module ATTR_UNUSED)
{
}

void fq_imap_deinit(void)
{
}

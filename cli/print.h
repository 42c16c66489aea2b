#ifndef MAILPOLICY_CLI_PRINT_H
#define MAILPOLICY_CLI_PRINT_H

/* print: the line grammar of `mailpolicy explain` (see mailpolicy(1)):
 *
 *   HEADER:                              sections, sub-sections
 *   KEY = VALUE  # ORIGIN[; NOTE]        one effective value
 *   # NOTE                               a remark on the section
 *
 * Values are spelled as in the policy file (the core's name tables and
 * unit formatters), so a value line can be pasted back into a block.
 * Each printer returns the number of bytes it wrote, for alignment. */

#include <stdint.h>
#include <stdio.h>

#include "mailpolicy/policy.h"

#define N_ELEMENTS(array) (sizeof(array) / sizeof((array)[0]))

/* Width of the value column before the "# ORIGIN" comment. */
#define PRINT_VALUE_WIDTH 14

/* Writes word as the policy file spells it: bare when it has no
   whitespace, quote, '#', '{', '}', '=', '\', '*', '%' or control
   character (and is not empty), else double-quoted with '"' and '\'
   escaped by a backslash. */
int print_word(FILE *out, const char *word);

/* Writes "INDENT KEY<pad> = " with the key padded to key_width. */
void print_key(FILE *out, int indent, int key_width, const char *key);

/* Pads the value (value_len bytes so far) to PRINT_VALUE_WIDTH and
   writes " # ORIGIN[; NOTE]" and the newline.  For sections with
   selectors, block is NULL and the origin reads "default", "domain NAME"
   or "user ADDR"; sections without them name their block instead:
   block "listener" with label "mx", block "milter" with label NULL.
   note may be NULL. */
void print_origin(FILE *out, int value_len, const struct mp_origin *origin,
		  const char *block, const char *label, const char *note);

/* Value printers, returning bytes written. */
int print_size(FILE *out, uint64_t bytes);
int print_duration(FILE *out, uint64_t seconds);
int print_rate(FILE *out, const struct mp_rate_spec *rate);
int print_uint(FILE *out, uint64_t value);
int print_cidr(FILE *out, const struct mp_cidr *cidr);

/* Raises *width to strlen(name): callers find the key column over a
   section's name table. */
void print_widen(int *width, const char *name);

#endif

#ifndef MAILPOLICY_SIPHASH_H
#define MAILPOLICY_SIPHASH_H

/* siphash: the keyed hash behind every hash table of the core (private).
 *
 * The strings the tables are probed with come from clients (logins,
 * client IPs, sender addresses), so an attacker picks them; with an
 * unkeyed or weakly seeded hash they could pile every entry into one
 * probe chain.  SipHash (Aumasson & Bernstein) under a per-table random
 * key is the standard answer; SipHash-1-3 is the round count Python and
 * Rust use for this job.  SipHash-2-4 is the reference variant, for the
 * tests' vectors. */

#include <stddef.h>
#include <stdint.h>

/* Fills key with random bytes (getrandom), or, when the kernel cannot
   give any yet, with a mix of clocks, the key's address and the pid:
   weaker, still different per process and per table. */
void mp_siphash_key_init(uint64_t key[2]);

/* SipHash-1-3 / SipHash-2-4 of data[0..len) under key. */
uint64_t mp_siphash13(const uint64_t key[2], const void *data, size_t len);
uint64_t mp_siphash24(const uint64_t key[2], const void *data, size_t len);

/* SipHash-1-3 of s[0..len) with the ASCII letters at offsets >= fold_from
   lower-cased (fold_from >= len: exact), so that "bob@EXAMPLE.org"
   hashes like "bob@example.org" without a copy. */
uint64_t mp_siphash13_fold(const uint64_t key[2], const char *s, size_t len,
			   size_t fold_from);

#endif

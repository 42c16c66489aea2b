/* policy-hash.c: the hash behind user and domain lookups.
 *
 * SipHash-1-3 under a key drawn at load time: selectors come from the
 * admin, but the strings looked up come from clients (logins), and a
 * keyed hash keeps probe sequences unpredictable whatever the table
 * holds.  The hash folds ASCII case from a given offset so that a
 * user's domain part compares case-insensitively without copying the
 * string, which lookups must not allocate for.
 *
 * The table is open addressing with linear probing, never more than
 * half full, storing the full 64-bit hash next to each item so that a
 * probe compares strings only on a real hash match. */

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "policy-private.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

void policy_hash_key_init(struct policy_hash_key *key)
{
	struct timespec ts;
	uint64_t mix;

	if (getrandom(key, sizeof(*key), GRND_NONBLOCK) == sizeof(*key))
		return;
	/* No entropy yet (early boot): a weaker, still per-load key. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mix = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
		(uint64_t)(uintptr_t)key ^ ((uint64_t)getpid() << 16);
	key->k0 = mix * 0x9e3779b97f4a7c15ULL;
	key->k1 = (mix ^ 0xda942042e4dd58b5ULL) * 0xbf58476d1ce4e5b9ULL;
}

static inline unsigned char fold_byte(const char *s, size_t i,
				      size_t fold_from)
{
	unsigned char c = (unsigned char)s[i];

	if (i >= fold_from && c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return c;
}

uint64_t policy_hash(const struct policy_hash_key *key, const char *s,
		     size_t len, size_t fold_from)
{
	uint64_t v0 = key->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = key->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = key->k1 ^ 0x7465646279746573ULL;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i = 0, j, end = len - len % 8;

	for (; i < end; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)fold_byte(s, i + j, fold_from) << (8 * j);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)fold_byte(s, i + j, fold_from) << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static void htable_put(struct policy_slot *slots, size_t mask, uint64_t hash,
		       void *item)
{
	size_t i = (size_t)hash & mask;

	while (slots[i].item != NULL)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].item = item;
}

int policy_htable_add(struct policy_htable *table,
		      struct policy_arena *arena, uint64_t hash, void *item)
{
	size_t capacity = table->slots == NULL ? 0 : table->mask + 1;

	if ((table->count + 1) * 2 > capacity) {
		size_t new_capacity = capacity == 0 ? 16 : capacity * 2;
		struct policy_slot *slots;
		size_t i;

		if (new_capacity > SIZE_MAX / sizeof(*slots))
			return -1;
		/* The old array stays in the arena: doubling keeps that
		   waste below the final table's own size. */
		slots = policy_arena_alloc(arena, new_capacity * sizeof(*slots));
		if (slots == NULL)
			return -1;
		for (i = 0; i < capacity; i++) {
			if (table->slots[i].item != NULL) {
				htable_put(slots, new_capacity - 1,
					   table->slots[i].hash,
					   table->slots[i].item);
			}
		}
		table->slots = slots;
		table->mask = new_capacity - 1;
	}
	htable_put(table->slots, table->mask, hash, item);
	table->count++;
	return 0;
}

void *policy_htable_next(const struct policy_htable *table, uint64_t hash,
			 size_t *pos)
{
	const struct policy_slot *slot;

	if (table->slots == NULL)
		return NULL;
	while (*pos <= table->mask) {
		slot = &table->slots[((size_t)hash + *pos) & table->mask];
		(*pos)++;
		if (slot->item == NULL)
			return NULL;
		if (slot->hash == hash)
			return slot->item;
	}
	return NULL;
}

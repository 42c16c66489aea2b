/* policy-hash.c: the hash table behind user, domain and label lookups.
 *
 * Keys are hashed with SipHash-1-3 under a key drawn at load time
 * (siphash.h): selectors come from the admin, but the strings looked up
 * come from clients (logins).  The hash folds ASCII case from a given
 * offset so that a user's domain part compares case-insensitively
 * without copying the string, which lookups must not allocate for.
 *
 * The table is open addressing with linear probing, never more than
 * half full, storing the full 64-bit hash next to each item so that a
 * probe compares strings only on a real hash match. */

#include <string.h>

#include "policy-private.h"

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

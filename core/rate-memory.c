/* rate-memory.c: the in-process rate store ("memory").
 *
 * Keys are spread over up to 64 shards by a keyed SipHash (random key
 * per store: rate keys are attacker-chosen); each shard is one
 * linear-probing hash table under its own mutex, so a check is one lock
 * and a probe or two, and threads only meet on the same shard.  A
 * check of several keys locks each of their shards (in shard order, so
 * two checks cannot deadlock), applies every key to a copy of its state
 * and writes the copies back only when all fit: the check-and-count is
 * atomic across its keys (no over-admission, no lost updates, no quota
 * spent by a refused message).
 *
 * Bounded memory: every shard holds at most its share of max_keys.  A
 * new key in a full shard first drops an entry whose windows have both
 * passed (forgetting it changes nothing), otherwise the least recently
 * used one, which then starts again from zero: the store fails open, and
 * says so in the log at most once a minute.  To find an expired entry in
 * O(1), entries sit on one LRU list per window length (up to 7 per
 * shard, the rest share an 8th): for one window length the least
 * recently used entry is also the one whose windows end first, so if a
 * list's tail has not expired, nothing on that list has.  The same tails
 * are the LRU candidates, compared by a per-shard use counter, so the
 * LRU order is exact within a shard (approximate across shards, and for
 * expiry on the shared 8th list).
 *
 * Small stores (under 512 keys) use a single shard, so their eviction
 * order is exact over the whole store; that is what the tests rely on.
 * Tables and entry arrays grow by doubling up to the shard's bound and
 * never shrink. */

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rate-private.h"
#include "siphash.h"

#define MEMORY_DEFAULT_KEYS 1000000
#define MEMORY_MAX_SHARDS 64
/* below this many keys per shard, use fewer shards */
#define MEMORY_MIN_SHARD_KEYS 256
/* entry indices are uint32_t, table sizes up to twice this */
#define MEMORY_MAX_SHARD_KEYS (UINT32_C(1) << 26)
#define MEMORY_INITIAL_SLOTS 16
#define MEMORY_INITIAL_ENTRIES 8
#define MEMORY_LRU_LISTS 8
#define MEMORY_LRU_MIXED (MEMORY_LRU_LISTS - 1)
#define MEMORY_LRU_NONE 0xff
#define MEMORY_ENTRY_FREE 0xfe
/* Keys shorter than this live inside their entry: no allocation and no
   extra cache miss per check for the usual "listener/login/user@domain"
   keys, and an entry is two cache lines on 64-bit hosts. */
#define MEMORY_INLINE_KEY 72
_Static_assert(MP_RATE_MAX_KEY_LEN <= UINT16_MAX, "key_len is 16 bits");
#define MEMORY_NIL UINT32_MAX
#define MEMORY_LOG_INTERVAL_MS 60000
#define MEMORY_CACHE_LINE 64

struct memory_slot {
	uint32_t hash_lo;	/* low bits of the hash: home slot, filter */
	uint32_t entry;		/* entry index + 1; 0 = empty slot */
};

struct memory_entry {
	struct mp_rate_window w;
	uint64_t used;		/* shard->tick at the last check */
	uint32_t lru_prev;
	uint32_t lru_next;	/* also links the free entries */
	uint32_t hash_lo;	/* as in its slot, to find the slot again */
	uint16_t key_len;
	/* list index, MEMORY_LRU_NONE or MEMORY_ENTRY_FREE */
	uint8_t lru;
	union {
		char bytes[MEMORY_INLINE_KEY];	/* key_len < INLINE */
		char *ptr;			/* allocated copy */
	} key;			/* NUL-terminated */
};

/* Entries with one window length, most recently used at head. */
struct memory_lru {
	uint64_t window_ms;
	uint32_t head, tail;
};

struct memory_shard {
	pthread_mutex_t lock;
	struct memory_slot *slots;
	struct memory_entry *entries;
	uint32_t slot_mask;	/* slot count - 1, a power of two */
	uint32_t entries_alloc;
	uint32_t entries_used;	/* entries ever handed out */
	uint32_t free_entry;
	uint32_t count;
	uint32_t max_keys;
	uint64_t tick;
	struct memory_lru lru[MEMORY_LRU_LISTS];
} __attribute__((aligned(MEMORY_CACHE_LINE)));

struct memory_store {
	struct mp_rate_store store;
	uint64_t hash_key[2];
	unsigned int shard_bits;
	unsigned int shard_count;
	size_t max_keys;
	void *shards_mem;
	struct memory_shard *shards;	/* aligned into shards_mem */
	pthread_mutex_t log_lock;
	uint64_t next_log_ms;
};

static const char *const error_oom = "memory rate store: out of memory";

static const char *entry_key(const struct memory_entry *e)
{
	return e->key_len < MEMORY_INLINE_KEY ? e->key.bytes : e->key.ptr;
}

/* ---- hash table ---- */

/* Index of the entry holding key, or MEMORY_NIL with *slot_r at the
   empty slot where it would go. */
static uint32_t slot_find(const struct memory_shard *shard, uint64_t hash,
			  const char *key, size_t key_len, uint32_t *slot_r)
{
	uint32_t mask = shard->slot_mask, i = (uint32_t)hash & mask;
	const struct memory_slot *slot;
	const struct memory_entry *e;

	for (;; i = (i + 1) & mask) {
		slot = &shard->slots[i];
		if (slot->entry == 0)
			break;
		if (slot->hash_lo != (uint32_t)hash)
			continue;
		e = &shard->entries[slot->entry - 1];
		if (e->key_len == key_len &&
		    memcmp(entry_key(e), key, key_len) == 0)
			return slot->entry - 1;
	}
	*slot_r = i;
	return MEMORY_NIL;
}

/* Backward-shift deletion: no tombstones, so probes stay short however
   many keys come and go. */
static void slot_delete(struct memory_shard *shard, uint32_t hole)
{
	uint32_t mask = shard->slot_mask, j = hole, home;

	for (;;) {
		j = (j + 1) & mask;
		if (shard->slots[j].entry == 0)
			break;
		home = shard->slots[j].hash_lo & mask;
		/* j's entry may fill the hole unless its home slot lies
		   cyclically in (hole, j] */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			shard->slots[hole] = shard->slots[j];
			hole = j;
		}
	}
	shard->slots[hole].entry = 0;
}

static uint32_t slot_of_entry(const struct memory_shard *shard, uint32_t idx)
{
	uint32_t mask = shard->slot_mask;
	uint32_t i = shard->entries[idx].hash_lo & mask;

	while (shard->slots[i].entry != idx + 1)
		i = (i + 1) & mask;
	return i;
}

/* Doubles the table and re-inserts every entry.  0 or -1 (no memory). */
static int slots_grow(const struct mp_env *env, struct memory_shard *shard)
{
	uint32_t old_count = shard->slot_mask + 1, mask = old_count * 2 - 1;
	struct memory_slot *slots;
	uint32_t idx, i;

	slots = env->alloc(env->ctx, (size_t)(mask + 1) * sizeof(*slots));
	if (slots == NULL)
		return -1;
	for (idx = 0; idx < shard->entries_used; idx++) {
		const struct memory_entry *e = &shard->entries[idx];

		if (e->lru == MEMORY_ENTRY_FREE)
			continue;
		for (i = e->hash_lo & mask; slots[i].entry != 0;
		     i = (i + 1) & mask) ;
		slots[i].hash_lo = e->hash_lo;
		slots[i].entry = idx + 1;
	}
	env->free(env->ctx, shard->slots);
	shard->slots = slots;
	shard->slot_mask = mask;
	return 0;
}

/* ---- LRU lists ---- */

static void lru_unlink(struct memory_shard *shard, uint32_t idx)
{
	struct memory_entry *e = &shard->entries[idx];
	struct memory_lru *list;

	if (e->lru == MEMORY_LRU_NONE)
		return;
	list = &shard->lru[e->lru];
	if (e->lru_prev != MEMORY_NIL)
		shard->entries[e->lru_prev].lru_next = e->lru_next;
	else
		list->head = e->lru_next;
	if (e->lru_next != MEMORY_NIL)
		shard->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		list->tail = e->lru_prev;
	e->lru = MEMORY_LRU_NONE;
}

static void lru_push(struct memory_shard *shard, uint8_t lru, uint32_t idx)
{
	struct memory_entry *e = &shard->entries[idx];
	struct memory_lru *list = &shard->lru[lru];

	e->lru = lru;
	e->lru_prev = MEMORY_NIL;
	e->lru_next = list->head;
	if (list->head != MEMORY_NIL)
		shard->entries[list->head].lru_prev = idx;
	else
		list->tail = idx;
	list->head = idx;
}

/* The list for entries with window_ms: the one already used for it, a
   free one (claimed), or the shared last one. */
static uint8_t lru_for_window(struct memory_shard *shard, uint64_t window_ms)
{
	uint8_t i, free_list = MEMORY_LRU_MIXED;

	for (i = 0; i < MEMORY_LRU_MIXED; i++) {
		if (shard->lru[i].head == MEMORY_NIL) {
			if (free_list == MEMORY_LRU_MIXED)
				free_list = i;
		} else if (shard->lru[i].window_ms == window_ms) {
			return i;
		}
	}
	shard->lru[free_list].window_ms = window_ms;
	return free_list;
}

/* ---- entries ---- */

static void entry_remove(const struct mp_env *env, struct memory_shard *shard,
			 uint32_t idx)
{
	struct memory_entry *e = &shard->entries[idx];

	slot_delete(shard, slot_of_entry(shard, idx));
	lru_unlink(shard, idx);
	if (e->key_len >= MEMORY_INLINE_KEY)
		env->free(env->ctx, e->key.ptr);
	e->lru = MEMORY_ENTRY_FREE;
	e->lru_next = shard->free_entry;
	shard->free_entry = idx;
	shard->count--;
}

/* Drops the entry that expired or, failing that, was used least
   recently.  Returns true if the dropped entry still counted. */
static bool shard_evict(const struct mp_env *env, struct memory_shard *shard,
			uint64_t now_ms)
{
	uint32_t victim = MEMORY_NIL, tail;
	bool live = true;
	unsigned int i;

	for (i = 0; i < MEMORY_LRU_LISTS; i++) {
		tail = shard->lru[i].tail;
		if (tail == MEMORY_NIL)
			continue;
		if (mp_rate_window_expired(&shard->entries[tail].w, now_ms)) {
			victim = tail;
			live = false;
			break;
		}
		if (victim == MEMORY_NIL ||
		    shard->entries[tail].used < shard->entries[victim].used)
			victim = tail;
	}
	/* a full shard has entries, and every entry is on a list */
	entry_remove(env, shard, victim);
	return live;
}

/* An unused entry index, growing the array if needed; MEMORY_NIL when
   out of memory.  The caller has made room: count < max_keys. */
static uint32_t entry_new(const struct mp_env *env, struct memory_shard *shard)
{
	uint32_t idx, new_alloc;
	struct memory_entry *entries;

	if (shard->free_entry != MEMORY_NIL) {
		idx = shard->free_entry;
		shard->free_entry = shard->entries[idx].lru_next;
		return idx;
	}
	if (shard->entries_used == shard->entries_alloc) {
		new_alloc = shard->entries_alloc == 0 ? MEMORY_INITIAL_ENTRIES :
			shard->entries_alloc * 2;
		if (new_alloc > shard->max_keys)
			new_alloc = shard->max_keys;
		if (shard->entries == NULL) {
			entries = env->alloc(env->ctx, (size_t)new_alloc *
					     sizeof(*entries));
		} else {
			entries = env->realloc(env->ctx, shard->entries,
					       (size_t)shard->entries_alloc *
					       sizeof(*entries),
					       (size_t)new_alloc *
					       sizeof(*entries));
		}
		if (entries == NULL)
			return MEMORY_NIL;
		shard->entries = entries;
		shard->entries_alloc = new_alloc;
	}
	return shard->entries_used++;
}

/* Adds key (not in the shard) and returns its index, or MEMORY_NIL when
   out of memory.  *evicted_live_r tells whether a counting entry had to
   go to make room. */
static uint32_t entry_insert(const struct mp_env *env,
			     struct memory_shard *shard, uint64_t hash,
			     const char *key, size_t key_len, uint64_t now_ms,
			     bool *evicted_live_r)
{
	struct memory_entry *e;
	uint32_t idx, slot;
	char *copy = NULL;

	if (key_len >= MEMORY_INLINE_KEY) {
		copy = env->alloc(env->ctx, key_len + 1);
		if (copy == NULL)
			return MEMORY_NIL;
		memcpy(copy, key, key_len);
	}

	if (shard->count >= shard->max_keys)
		*evicted_live_r = shard_evict(env, shard, now_ms);
	/* keep the load factor at or below 1/2 */
	if ((shard->count + 1) * 2 > shard->slot_mask + 1 &&
	    slots_grow(env, shard) < 0) {
		env->free(env->ctx, copy);
		return MEMORY_NIL;
	}
	idx = entry_new(env, shard);
	if (idx == MEMORY_NIL) {
		env->free(env->ctx, copy);
		return MEMORY_NIL;
	}
	/* eviction and growth moved slots: probe again */
	(void)slot_find(shard, hash, key, key_len, &slot);
	shard->slots[slot].hash_lo = (uint32_t)hash;
	shard->slots[slot].entry = idx + 1;

	e = &shard->entries[idx];
	memset(e, 0, sizeof(*e));
	e->hash_lo = (uint32_t)hash;
	e->key_len = (uint16_t)key_len;
	if (copy != NULL)
		e->key.ptr = copy;
	else
		memcpy(e->key.bytes, key, key_len);
	e->lru = MEMORY_LRU_NONE;
	e->lru_prev = e->lru_next = MEMORY_NIL;
	shard->count++;
	return idx;
}

/* ---- the store ---- */

static void memory_log_eviction(struct memory_store *store, uint64_t now_ms)
{
	const struct mp_env *env = store->store.env;
	char msg[200];
	bool log = false;

	pthread_mutex_lock(&store->log_lock);
	if (now_ms >= store->next_log_ms) {
		store->next_log_ms = now_ms > UINT64_MAX - MEMORY_LOG_INTERVAL_MS ?
			UINT64_MAX : now_ms + MEMORY_LOG_INTERVAL_MS;
		log = true;
	}
	pthread_mutex_unlock(&store->log_lock);
	if (!log || env->log == NULL)
		return;
	snprintf(msg, sizeof(msg), "memory rate store full (max %zu keys): "
		 "forgetting keys whose windows are still open, they restart "
		 "from zero (limits fail open for them)", store->max_keys);
	env->log(env->ctx, MP_LOG_WARNING, msg);
}

/* Marks entry idx as just used with window_ms: to the head of its LRU
   list, moving lists when its window length changed. */
static void entry_touch(struct memory_shard *shard, uint32_t idx,
			uint64_t window_ms)
{
	struct memory_entry *e = &shard->entries[idx];

	e->used = ++shard->tick;
	if (e->lru != MEMORY_LRU_NONE &&
	    (e->lru == MEMORY_LRU_MIXED ||
	     shard->lru[e->lru].window_ms == window_ms)) {
		/* same list, to its head */
		if (shard->lru[e->lru].head != idx) {
			uint8_t lru = e->lru;

			lru_unlink(shard, idx);
			lru_push(shard, lru, idx);
		}
	} else {
		/* new, or its window length changed */
		lru_unlink(shard, idx);
		lru_push(shard, lru_for_window(shard, window_ms), idx);
	}
}

/* Per op: its hash and the state to write back. */
struct memory_op_state {
	uint64_t hash;
	struct mp_rate_window w;
};

static void shards_lock(struct memory_store *store,
			const unsigned int *shard_of, size_t count, bool lock)
{
	/* Each distinct shard once, in ascending order: two calls that
	   share shards take them in the same order, so they cannot
	   deadlock.  count is small (MP_RATE_MAX_ITEMS): a selection by
	   repeated minimum is cheaper than sorting. */
	unsigned int last = 0;
	bool first = true;

	for (;;) {
		unsigned int next = UINT_MAX;
		size_t i;

		for (i = 0; i < count; i++) {
			if ((first || shard_of[i] > last) &&
			    shard_of[i] < next)
				next = shard_of[i];
		}
		if (next == UINT_MAX)
			break;
		if (lock)
			pthread_mutex_lock(&store->shards[next].lock);
		else
			pthread_mutex_unlock(&store->shards[next].lock);
		last = next;
		first = false;
	}
}

static enum mp_rate_status
memory_check(struct mp_rate_store *_store, struct mp_rate_op *ops,
	     size_t count, uint64_t now_ms, const char **error_r)
{
	struct memory_store *store = (struct memory_store *)_store;
	const struct mp_env *env = _store->env;
	struct memory_op_state st[MP_RATE_MAX_ITEMS];
	unsigned int shard_of[MP_RATE_MAX_ITEMS] = { 0 };
	enum mp_rate_status status = MP_RATE_ALLOWED;
	bool evicted_live = false;
	uint32_t idx, slot;
	size_t i;

	for (i = 0; i < count; i++) {
		st[i].hash = mp_siphash13(store->hash_key, ops[i].key,
					  ops[i].key_len);
		shard_of[i] = store->shard_bits == 0 ? 0 :
			(unsigned int)(st[i].hash >> (64 - store->shard_bits));
	}
	shards_lock(store, shard_of, count, true);

	/* Apply every op to a copy of its state: nothing is written unless
	   all fit. */
	for (i = 0; i < count; i++) {
		struct memory_shard *shard = &store->shards[shard_of[i]];
		struct mp_rate_item *item = ops[i].item;

		idx = slot_find(shard, st[i].hash, ops[i].key, ops[i].key_len,
				&slot);
		if (idx == MEMORY_NIL)
			memset(&st[i].w, 0, sizeof(st[i].w));
		else
			st[i].w = shard->entries[idx].w;
		item->status = mp_rate_window_apply(&st[i].w, ops[i].limit,
						    ops[i].window_ms,
						    ops[i].cost, now_ms,
						    &item->result);
		if (item->status != MP_RATE_ALLOWED)
			status = MP_RATE_LIMITED;
	}
	if (status == MP_RATE_LIMITED) {
		/* nothing counted: the allowed ones report their estimate
		   without this call's cost */
		for (i = 0; i < count; i++) {
			if (ops[i].item->status == MP_RATE_ALLOWED)
				ops[i].item->result.count -= ops[i].cost;
		}
		shards_lock(store, shard_of, count, false);
		return MP_RATE_LIMITED;
	}
	for (i = 0; i < count; i++) {
		struct memory_shard *shard = &store->shards[shard_of[i]];

		/* found again: an insert for an earlier op may have evicted
		   or moved it */
		idx = slot_find(shard, st[i].hash, ops[i].key, ops[i].key_len,
				&slot);
		if (idx == MEMORY_NIL) {
			bool evicted = false;

			idx = entry_insert(env, shard, st[i].hash, ops[i].key,
					   ops[i].key_len, now_ms, &evicted);
			evicted_live = evicted_live || evicted;
			if (idx == MEMORY_NIL) {
				/* the ops before this one are counted: an
				   out-of-memory store fails open */
				shards_lock(store, shard_of, count, false);
				*error_r = error_oom;
				return MP_RATE_FAILED;
			}
		}
		shard->entries[idx].w = st[i].w;
		entry_touch(shard, idx, ops[i].window_ms);
	}
	shards_lock(store, shard_of, count, false);

	if (evicted_live)
		memory_log_eviction(store, now_ms);
	return MP_RATE_ALLOWED;
}

static void memory_shard_deinit(const struct mp_env *env,
				struct memory_shard *shard)
{
	uint32_t idx;

	for (idx = 0; idx < shard->entries_used; idx++) {
		const struct memory_entry *e = &shard->entries[idx];

		if (e->lru != MEMORY_ENTRY_FREE &&
		    e->key_len >= MEMORY_INLINE_KEY)
			env->free(env->ctx, e->key.ptr);
	}
	env->free(env->ctx, shard->entries);
	env->free(env->ctx, shard->slots);
	pthread_mutex_destroy(&shard->lock);
}

static void memory_free_shards(struct memory_store *store, unsigned int count)
{
	const struct mp_env *env = store->store.env;
	unsigned int i;

	for (i = 0; i < count; i++)
		memory_shard_deinit(env, &store->shards[i]);
	env->free(env->ctx, store->shards_mem);
}

static void memory_free(struct mp_rate_store *_store)
{
	struct memory_store *store = (struct memory_store *)_store;
	const struct mp_env *env = _store->env;

	memory_free_shards(store, store->shard_count);
	pthread_mutex_destroy(&store->log_lock);
	env->free(env->ctx, store);
}

static const struct mp_rate_store_vfuncs memory_vfuncs = {
	.name = "memory",
	.check = memory_check,
	.free = memory_free,
};

static int memory_shard_init(const struct mp_env *env,
			     struct memory_shard *shard, uint32_t max_keys)
{
	unsigned int i;

	memset(shard, 0, sizeof(*shard));
	shard->slots = env->alloc(env->ctx, MEMORY_INITIAL_SLOTS *
				  sizeof(*shard->slots));
	if (shard->slots == NULL)
		return -1;
	if (pthread_mutex_init(&shard->lock, NULL) != 0) {
		env->free(env->ctx, shard->slots);
		return -1;
	}
	shard->slot_mask = MEMORY_INITIAL_SLOTS - 1;
	shard->free_entry = MEMORY_NIL;
	shard->max_keys = max_keys;
	for (i = 0; i < MEMORY_LRU_LISTS; i++)
		shard->lru[i].head = shard->lru[i].tail = MEMORY_NIL;
	return 0;
}

int mp_rate_store_memory_create(const struct mp_env *env, size_t max_keys,
				struct mp_rate_store **store_r,
				const char **error_r)
{
	struct memory_store *store;
	unsigned int i, bits = 0;
	uintptr_t addr;

	env = mp_env_or_default(env);
	if (max_keys == 0)
		max_keys = MEMORY_DEFAULT_KEYS;
	if (max_keys / MEMORY_MAX_SHARDS >= MEMORY_MAX_SHARD_KEYS) {
		*error_r = "memory rate store: max_keys too large";
		return -1;
	}
	while ((1U << bits) < MEMORY_MAX_SHARDS &&
	       max_keys >> (bits + 1) >= MEMORY_MIN_SHARD_KEYS)
		bits++;

	store = env->alloc(env->ctx, sizeof(*store));
	if (store == NULL) {
		*error_r = error_oom;
		return -1;
	}
	store->store.v = &memory_vfuncs;
	store->store.env = env;
	store->shard_bits = bits;
	store->shard_count = 1U << bits;
	store->max_keys = max_keys;
	if (pthread_mutex_init(&store->log_lock, NULL) != 0) {
		env->free(env->ctx, store);
		*error_r = "memory rate store: cannot create a mutex";
		return -1;
	}
	/* whole cache lines per shard, so that threads on neighbouring
	   shards do not contend for one line */
	store->shards_mem = env->alloc(env->ctx, store->shard_count *
				       sizeof(struct memory_shard) +
				       MEMORY_CACHE_LINE - 1);
	if (store->shards_mem == NULL) {
		pthread_mutex_destroy(&store->log_lock);
		env->free(env->ctx, store);
		*error_r = error_oom;
		return -1;
	}
	addr = ((uintptr_t)store->shards_mem + MEMORY_CACHE_LINE - 1) &
		~(uintptr_t)(MEMORY_CACHE_LINE - 1);
	store->shards = (struct memory_shard *)addr;
	for (i = 0; i < store->shard_count; i++) {
		/* max_keys split as evenly as it divides */
		uint32_t share = (uint32_t)(max_keys >> bits) +
			(i < (max_keys & (store->shard_count - 1)) ? 1 : 0);

		if (memory_shard_init(env, &store->shards[i], share) < 0) {
			memory_free_shards(store, i);
			pthread_mutex_destroy(&store->log_lock);
			env->free(env->ctx, store);
			*error_r = error_oom;
			return -1;
		}
	}
	mp_siphash_key_init(store->hash_key);
	*store_r = &store->store;
	return 0;
}

size_t mp_rate_store_memory_count(struct mp_rate_store *_store)
{
	struct memory_store *store = (struct memory_store *)_store;
	size_t total = 0;
	unsigned int i;

	for (i = 0; i < store->shard_count; i++) {
		pthread_mutex_lock(&store->shards[i].lock);
		total += store->shards[i].count;
		pthread_mutex_unlock(&store->shards[i].lock);
	}
	return total;
}

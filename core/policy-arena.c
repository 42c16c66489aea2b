/* policy-arena.c: the memory of a compiled policy.
 *
 * A policy is built once and freed whole, so its strings, rules and
 * tables come from a chunk list allocated through the host's mp_env:
 * freeing is one walk, an allocation failure anywhere unwinds by
 * freeing the policy, and lookups touch memory laid out in file order.
 * Chunks start small (an empty or tiny file costs one 4 KiB chunk) and
 * double up to 1 MiB.  A request larger than the next chunk would be
 * (a long list early in a file can ask for 16 KiB while chunks are
 * still 4 KiB) gets a chunk of its own, of exactly its size: a chunk is
 * never smaller than the request it is made for. */

#include <stdalign.h>
#include <string.h>

#include "policy-private.h"

#define ARENA_FIRST_CHUNK 4096
#define ARENA_MAX_CHUNK (1024 * 1024)
#define ARENA_ALIGN 16

struct policy_arena_chunk {
	struct policy_arena_chunk *next;
	size_t size, used;
	alignas(ARENA_ALIGN) unsigned char data[];
};

void policy_arena_init(struct policy_arena *arena, const struct mp_env *env)
{
	arena->env = env;
	arena->head = NULL;
	arena->next_size = ARENA_FIRST_CHUNK;
}

static struct policy_arena_chunk *
arena_chunk_new(struct policy_arena *arena, size_t size)
{
	struct policy_arena_chunk *chunk;

	if (size > SIZE_MAX - sizeof(*chunk))
		return NULL;
	chunk = arena->env->alloc(arena->env->ctx, sizeof(*chunk) + size);
	if (chunk == NULL)
		return NULL;
	chunk->size = size;
	chunk->used = 0;
	return chunk;
}

void *policy_arena_alloc(struct policy_arena *arena, size_t size)
{
	struct policy_arena_chunk *chunk = arena->head;
	void *ptr;

	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (size == 0)
		size = ARENA_ALIGN;
	if (chunk != NULL && chunk->size - chunk->used >= size) {
		/* fits the current chunk */
	} else if (size > arena->next_size / 4) {
		/* A chunk of its own, behind the current one so that the
		   room left there is still used (a quarter of a chunk or
		   more would waste too much of a fresh one). */
		chunk = arena_chunk_new(arena, size);
		if (chunk == NULL)
			return NULL;
		if (arena->head != NULL) {
			chunk->next = arena->head->next;
			arena->head->next = chunk;
		} else {
			chunk->next = NULL;
			arena->head = chunk;
		}
	} else {
		chunk = arena_chunk_new(arena, arena->next_size);
		if (chunk == NULL)
			return NULL;
		if (arena->next_size < ARENA_MAX_CHUNK)
			arena->next_size *= 2;
		chunk->next = arena->head;
		arena->head = chunk;
	}
	/* The env hands out zero-filled memory and the arena never
	   reuses any, so every allocation is zeroed. */
	ptr = chunk->data + chunk->used;
	chunk->used += size;
	return ptr;
}

char *policy_arena_strndup(struct policy_arena *arena, const char *s,
			   size_t len)
{
	char *copy;

	if (len == SIZE_MAX)
		return NULL;
	copy = policy_arena_alloc(arena, len + 1);
	if (copy != NULL && len > 0)
		memcpy(copy, s, len);
	return copy;
}

void policy_arena_free(struct policy_arena *arena)
{
	struct policy_arena_chunk *chunk, *next;

	for (chunk = arena->head; chunk != NULL; chunk = next) {
		next = chunk->next;
		arena->env->free(arena->env->ctx, chunk);
	}
	arena->head = NULL;
}

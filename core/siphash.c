/* siphash.c: SipHash-1-3 and -2-4, plain and ASCII-case-folding, and
 * the random keys of the core's hash tables.  See siphash.h for why. */

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

static inline unsigned char byte_at(const unsigned char *p, size_t i,
				    size_t fold_from)
{
	unsigned char c = p[i];

	if (i >= fold_from && c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return c;
}

/* Little-endian load of the 8 bytes at p[i], folded from fold_from on. */
static inline uint64_t load_le64(const unsigned char *p, size_t i,
				 size_t fold_from)
{
	uint64_t m = 0;
	unsigned int j;

	if (i + 8 <= fold_from) {
		for (j = 0; j < 8; j++)
			m |= (uint64_t)p[i + j] << (8 * j);
	} else {
		for (j = 0; j < 8; j++)
			m |= (uint64_t)byte_at(p, i + j, fold_from) << (8 * j);
	}
	return m;
}

static inline __attribute__((always_inline)) uint64_t
siphash(unsigned int c_rounds, unsigned int d_rounds, const uint64_t k[2],
	const void *data, size_t len, size_t fold_from)
{
	const unsigned char *p = data;
	size_t i, end = len & ~(size_t)7;
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k[0];
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k[1];
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k[0];
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k[1];
	uint64_t m, b = (uint64_t)len << 56;
	unsigned int r;

	for (i = 0; i < end; i += 8) {
		m = load_le64(p, i, fold_from);
		v3 ^= m;
		for (r = 0; r < c_rounds; r++)
			SIPROUND;
		v0 ^= m;
	}
	for (; i < len; i++)
		b |= (uint64_t)byte_at(p, i, fold_from) << (8 * (i & 7));
	v3 ^= b;
	for (r = 0; r < c_rounds; r++)
		SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	for (r = 0; r < d_rounds; r++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t mp_siphash13(const uint64_t key[2], const void *data, size_t len)
{
	return siphash(1, 3, key, data, len, SIZE_MAX);
}

uint64_t mp_siphash24(const uint64_t key[2], const void *data, size_t len)
{
	return siphash(2, 4, key, data, len, SIZE_MAX);
}

uint64_t mp_siphash13_fold(const uint64_t key[2], const char *s, size_t len,
			   size_t fold_from)
{
	return siphash(1, 3, key, s, len, fold_from);
}

void mp_siphash_key_init(uint64_t key[2])
{
	static const uint64_t fallback_key[2] = {
		UINT64_C(0x9e3779b97f4a7c15), UINT64_C(0xbf58476d1ce4e5b9)
	};
	uint64_t seed[4];
	struct timespec ts;

	if (getrandom(key, 2 * sizeof(key[0]), GRND_NONBLOCK) ==
	    (ssize_t)(2 * sizeof(key[0])))
		return;
	/* No entropy yet (early boot) or a very old kernel. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed[0] = (uint64_t)ts.tv_sec ^ (uint64_t)ts.tv_nsec << 20;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed[1] = (uint64_t)ts.tv_sec ^ (uint64_t)ts.tv_nsec << 20;
	seed[2] = (uint64_t)(uintptr_t)key;
	seed[3] = (uint64_t)getpid();
	key[0] = mp_siphash13(fallback_key, seed, sizeof(seed));
	seed[0] ^= 1;
	key[1] = mp_siphash13(fallback_key, seed, sizeof(seed));
}

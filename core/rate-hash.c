/* rate-hash.c: SipHash (Aumasson & Bernstein) for the rate stores.
 *
 * Rate keys carry client IPs and sender addresses, so an attacker picks
 * them.  With an unkeyed or weakly seeded hash (FNV with a random
 * offset basis still has seed-independent collisions) they could fill
 * one hash bucket chain and turn every check into a linear scan.  A
 * keyed PRF with a per-store random key is the standard answer;
 * SipHash-1-3 is the round count Python and Rust use for this job, and
 * costs tens of nanoseconds on a typical key.  SipHash-2-4 is built from
 * the same code so the tests can check it against the paper's vectors. */

#include "rate-private.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

/* little-endian load whatever the host's byte order */
static inline uint64_t load_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
		(uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
		(uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
		(uint64_t)p[7] << 56;
}

static inline __attribute__((always_inline)) uint64_t
siphash(unsigned int c_rounds, unsigned int d_rounds, const uint64_t k[2],
	const void *data, size_t len)
{
	const unsigned char *p = data;
	const unsigned char *end = p + (len & ~(size_t)7);
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k[0];
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k[1];
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k[0];
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k[1];
	uint64_t m, b = (uint64_t)len << 56;
	unsigned int i;

	for (; p != end; p += 8) {
		m = load_le64(p);
		v3 ^= m;
		for (i = 0; i < c_rounds; i++)
			SIPROUND;
		v0 ^= m;
	}
	switch (len & 7) {
	case 7: b |= (uint64_t)p[6] << 48; /* fall through */
	case 6: b |= (uint64_t)p[5] << 40; /* fall through */
	case 5: b |= (uint64_t)p[4] << 32; /* fall through */
	case 4: b |= (uint64_t)p[3] << 24; /* fall through */
	case 3: b |= (uint64_t)p[2] << 16; /* fall through */
	case 2: b |= (uint64_t)p[1] << 8; /* fall through */
	case 1: b |= (uint64_t)p[0]; break;
	case 0: break;
	}
	v3 ^= b;
	for (i = 0; i < c_rounds; i++)
		SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	for (i = 0; i < d_rounds; i++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t mp_rate_siphash13(const uint64_t k[2], const void *data, size_t len)
{
	return siphash(1, 3, k, data, len);
}

uint64_t mp_rate_siphash24(const uint64_t k[2], const void *data, size_t len)
{
	return siphash(2, 4, k, data, len);
}

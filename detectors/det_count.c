/*
 * det_count.c: keyed hashes (SipHash-2-4, from the reference description
 * by Aumasson and Bernstein) and distinct counters: an exact hash set that
 * turns into a HyperLogLog sketch (Flajolet et al. 2007) estimated with
 * Ertl's improved raw estimator (arXiv:1702.01284, algorithm 6).
 */
#include "detectors/det_count.h"

#include <sys/random.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct det_count {
	unsigned	 cap;		/* exact values before the sketch */
	unsigned	 p;
	uint64_t	*set;		/* NULL once a sketch */
	size_t		 set_n;
	size_t		 set_size;	/* slots, a power of two */
	bool		 sketch;	/* reg holds the count, not set */
	/*
	 * Tables stay allocated through det_count_clear() (a counter is
	 * reused for the next response or sub-window without growing its
	 * set again): set is kept when the counter turns into a sketch.
	 */
	uint8_t		*reg;		/* 2^p registers, or NULL */
	/*
	 * With reg: how many registers hold each value (0 to 64 - p + 1),
	 * kept as registers change, so an estimate reads 66 numbers rather
	 * than 2^p registers.
	 */
	uint32_t	*hist;
};

#define HIST_N		66

/* --- SipHash-2-4 --- */

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static inline uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

static inline uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/*
 * The last left (0-7) bytes of p[0..n) as a little-endian word, by whole
 * (overlapping) loads rather than a loop per byte: the values counted
 * are short and their tails were a tenth of the hash's time.
 */
static inline uint64_t
tail(const uint8_t *p, size_t n, size_t left)
{
	/* Without a branch on left: values of 8 and more bytes, 0 or not
	 * (NIKs have none, phone numbers some: a branch mispredicted). */
	if (n >= 8)
		return le64(p + n - 8) >> 1 >> (63 - 8 * left);
	if (left == 0)
		return 0;
	/* n == left: the whole value is the tail. */
	if (left >= 4)
		return (uint64_t)le32(p) |
		    (uint64_t)le32(p + left - 4) << (8 * (left - 4));
	return (uint64_t)p[0] | (uint64_t)p[left / 2] << (8 * (left / 2)) |
	    (uint64_t)p[left - 1] << (8 * (left - 1));
}

/* SipHash's initial state for the key as two words. */
static inline void
sip_init(uint64_t k0, uint64_t k1, uint64_t v[4])
{
	v[0] = 0x736f6d6570736575ULL ^ k0;
	v[1] = 0x646f72616e646f6dULL ^ k1;
	v[2] = 0x6c7967656e657261ULL ^ k0;
	v[3] = 0x7465646279746573ULL ^ k1;
}

/*
 * SipHash-c-d of p[0..n) from initial state iv (sip_init): c rounds per
 * message word, d at the end (2-4: the standard; 1-3: as Rust's and
 * Python's hash tables use it).
 */
static inline __attribute__((always_inline)) uint64_t
sip_run(const uint64_t iv[4], const uint8_t *p, size_t n, int c, int d)
{
	uint64_t v0 = iv[0], v1 = iv[1], v2 = iv[2], v3 = iv[3];
	uint64_t m, b;
	size_t i, left = n & 7;
	int r;

	for (i = 0; i + 8 <= n; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		for (r = 0; r < c; r++)
			SIPROUND;
		v0 ^= m;
	}
	b = (uint64_t)n << 56 | tail(p, n, left);
	v3 ^= b;
	for (r = 0; r < c; r++)
		SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	for (r = 0; r < d; r++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
det_siphash24(const uint8_t key[DET_COUNT_KEY_LEN], const void *data,
    size_t n)
{
	uint64_t iv[4];

	sip_init(le64(key), le64(key + 8), iv);
	return sip_run(iv, data, n, 2, 4);
}

/*
 * SipHash-1-3, once per finding: the key is secret and random per process
 * and the hashes stay in memory (they are never shown or stored), which
 * is what 1-3 is meant for; it is about twice as fast as 2-4 on the short
 * values here. The type goes into the key (a key per type: independent
 * functions), not in front of the value: copying the value one byte on
 * made every word read a store-forwarding stall.
 */
void
det_count_hkey_init(const uint8_t key[DET_COUNT_KEY_LEN], unsigned t,
    struct det_count_hkey *out)
{
	sip_init(le64(key), le64(key + 8) ^
	    ((uint64_t)t + 1) * 0x9e3779b97f4a7c15ULL, out->v);
}

uint64_t
det_count_hash_k(const struct det_count_hkey *k, const char *v, size_t n)
{
	return sip_run(k->v, (const uint8_t *)v, n, 1, 3);
}

uint64_t
det_count_hash(const uint8_t key[DET_COUNT_KEY_LEN], unsigned t,
    const char *v, size_t n)
{
	struct det_count_hkey k;
	uint64_t h;

	det_count_hkey_init(key, t, &k);
	h = det_count_hash_k(&k, v, n);
	explicit_bzero(&k, sizeof(k));
	return h;
}

int
det_count_key_random(uint8_t key[DET_COUNT_KEY_LEN])
{
	size_t got = 0;
	ssize_t r;

	while (got < DET_COUNT_KEY_LEN) {
		r = getrandom(key + got, DET_COUNT_KEY_LEN - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* --- counters --- */

int
det_count_new(unsigned exact_cap, unsigned p, struct det_count **out)
{
	struct det_count *c;

	*out = NULL;
	if (exact_cap < 1 || exact_cap > (1u << 20) || p < DET_COUNT_P_MIN ||
	    p > DET_COUNT_P_MAX)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cap = exact_cap;
	c->p = p;
	*out = c;
	return 0;
}

void
det_count_free(struct det_count *c)
{
	if (c == NULL)
		return;
	free(c->set);
	free(c->reg);
	free(c->hist);
	free(c);
}

void
det_count_clear(struct det_count *c)
{
	/* The set was left packed when the counter became a sketch. */
	if (c->set_n > 0)
		memset(c->set, 0, c->set_size * sizeof(*c->set));
	c->set_n = 0;
	c->sketch = false;
}

static inline int
reg_add(struct det_count *c, uint64_t h)
{
	unsigned q = 64 - c->p, r, old;
	uint64_t idx = h >> q, w = h << c->p;

	/*
	 * Rank: leading zeros of the q low bits, + 1; q + 1 when all zero.
	 * w's p low bits are 0: a 1 in the highest of them stops the count
	 * at q when w is 0, and changes nothing otherwise.
	 */
	r = (unsigned)__builtin_clzll(w | (uint64_t)1 << (c->p - 1)) + 1;
	/* Without a branch on the register (most adds leave it, at random). */
	old = c->reg[idx];
	r = r > old ? r : old;
	c->hist[old]--;
	c->hist[r]++;
	c->reg[idx] = (uint8_t)r;
	return r != old;
}

/*
 * Values h[0..n) into the registers (det_count_add_n() once a sketch,
 * to_sketch()), the table pointers in locals: the registers are bytes,
 * whose stores the compiler must otherwise assume change *c. Returns how
 * many raised a register (those into chg[] when not NULL).
 */
static size_t
add_n_sketch(struct det_count *c, const uint64_t *h, size_t n, uint64_t *chg)
{
	uint8_t *reg = c->reg;
	uint32_t *hist = c->hist;
	unsigned p = c->p, q = 64 - p, r, old;
	uint64_t x, one = (uint64_t)1 << (p - 1);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		x = h[i];
		/* reg_add(), inlined here. */
		r = (unsigned)__builtin_clzll(x << p | one) + 1;
		old = reg[x >> q];
		r = r > old ? r : old;
		hist[old]--;
		hist[r]++;
		reg[x >> q] = (uint8_t)r;
		if (chg != NULL)
			chg[k] = x;
		k += r != old;
	}
	return k;
}

/* Turn the exact set into a sketch (the set is kept for a later clear). */
static int
to_sketch(struct det_count *c)
{
	uint64_t h;
	size_t i, k;

	if (c->reg == NULL) {
		if ((c->reg = malloc((size_t)1 << c->p)) == NULL)
			return -1;
		if ((c->hist = malloc(HIST_N * sizeof(*c->hist))) == NULL) {
			free(c->reg);
			c->reg = NULL;
			return -1;
		}
	}
	memset(c->reg, 0, (size_t)1 << c->p);
	memset(c->hist, 0, HIST_N * sizeof(*c->hist));
	c->hist[0] = (uint32_t)1 << c->p;
	c->sketch = true;
	/*
	 * The values first packed to the front of the set, without a branch
	 * (half the slots are empty, at random: the mispredictions were most
	 * of the cost); the set is not read again until it is cleared.
	 */
	for (i = 0, k = 0; i < c->set_size; i++) {
		h = c->set[i];
		c->set[k] = h;
		k += h != 0;
	}
	(void)add_n_sketch(c, c->set, k, NULL);
	return 0;
}

static bool
set_insert(uint64_t *set, size_t size, uint64_t h)
{
	size_t i;

	for (i = (size_t)h & (size - 1); set[i] != 0; i = (i + 1) & (size - 1))
		if (set[i] == h)
			return false;
	set[i] = h;
	return true;
}

/*
 * det_count_add() past its fast path: the set is full (turn into a sketch)
 * or must grow. Out of line, so the fast path saves no registers.
 */
static __attribute__((noinline)) int
add_slow(struct det_count *c, uint64_t h)
{
	uint64_t *ns;
	size_t size, i;

	if (c->set_n >= c->cap) {
		if (to_sketch(c) == -1)
			return -1;
		return reg_add(c, h);
	}
	size = c->set_size == 0 ? 16 : c->set_size * 2;
	if ((ns = calloc(size, sizeof(*ns))) == NULL) {
		if (to_sketch(c) == -1)
			return -1;
		(void)reg_add(c, h);
		return -1;
	}
	for (i = 0; i < c->set_size; i++)
		if (c->set[i] != 0)
			(void)set_insert(ns, size, c->set[i]);
	free(c->set);
	c->set = ns;
	c->set_size = size;
	(void)set_insert(c->set, c->set_size, h);
	c->set_n++;
	return 1;
}

int
det_count_add(struct det_count *c, uint64_t h)
{
	size_t i, mask;

	if (c->sketch)
		return reg_add(c, h);
	if (h == 0)
		h = 1;		/* 0 marks an empty slot */
	if (c->set_size > 0) {
		/* One probe finds the value or the slot it would take. */
		mask = c->set_size - 1;
		for (i = (size_t)h & mask; c->set[i] != 0; i = (i + 1) & mask)
			if (c->set[i] == h)
				return 0;
		if (c->set_n < c->cap && c->set_n * 2 < c->set_size) {
			c->set[i] = h;
			c->set_n++;
			return 1;
		}
	}
	return add_slow(c, h);
}

size_t
det_count_add_n(struct det_count *c, const uint64_t *h, size_t n,
    uint64_t *chg, size_t *nomem)
{
	uint64_t *set, x, y;
	size_t i, j, k = 0, bad = 0, mask, set_n, cap;
	int r;

	/* Exact: the set's fields in locals, stored back around add_slow. */
	for (i = 0; i < n && !c->sketch; i++) {
		x = h[i];
		y = x == 0 ? 1 : x;
		set = c->set;
		set_n = c->set_n;
		cap = c->cap;
		r = -2;
		if (c->set_size > 0) {
			mask = c->set_size - 1;
			for (j = (size_t)y & mask; set[j] != 0;
			    j = (j + 1) & mask)
				if (set[j] == y) {
					r = 0;
					break;
				}
			if (r == -2 && set_n < cap && set_n * 2 < c->set_size) {
				set[j] = y;
				c->set_n = set_n + 1;
				r = 1;
			}
		}
		if (r == -2)
			r = add_slow(c, y);
		if (chg != NULL)
			chg[k] = x;
		k += r != 0;
		bad += r < 0;
	}
	if (i < n)
		k += add_n_sketch(c, h + i, n - i, chg != NULL ? chg + k :
		    NULL);
	if (nomem != NULL)
		*nomem = bad;
	return k;
}

bool
det_count_is_exact(const struct det_count *c)
{
	return !c->sketch;
}

static double
sigma(double x)
{
	double y = 1, z = x, zp;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return z;
}

static double
tau(double x)
{
	double y = 1, z = 1 - x, zp;

	if (x == 0 || x == 1)
		return 0;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != zp);
	return z / 3;
}

uint64_t
det_count_estimate(const struct det_count *c)
{
	unsigned q = 64 - c->p, k;
	double m = (double)((size_t)1 << c->p), z;

	if (!c->sketch)
		return c->set_n;
	z = m * tau(1 - (double)c->hist[q + 1] / m);
	for (k = q; k >= 1; k--)
		z = 0.5 * (z + c->hist[k]);
	z += m * sigma((double)c->hist[0] / m);
	return (uint64_t)llround(m * m / (2 * log(2)) / z);
}

int
det_count_merge(struct det_count *dst, const struct det_count *src)
{
	size_t i;

	if (dst->p != src->p)
		return -1;
	if (!src->sketch) {
		for (i = 0; i < src->set_size; i++)
			if (src->set[i] != 0 &&
			    det_count_add(dst, src->set[i]) == -1)
				return -1;
		return 0;
	}
	if (!dst->sketch && to_sketch(dst) == -1)
		return -1;
	for (i = 0; i < ((size_t)1 << dst->p); i++)
		if (src->reg[i] > dst->reg[i]) {
			dst->hist[dst->reg[i]]--;
			dst->hist[src->reg[i]]++;
			dst->reg[i] = src->reg[i];
		}
	return 0;
}

size_t
det_count_bytes(const struct det_count *c)
{
	return sizeof(*c) + c->set_size * sizeof(uint64_t) +
	    (c->reg != NULL ? ((size_t)1 << c->p) + HIST_N * sizeof(uint32_t) :
	    0);	/* what is allocated, used or kept for reuse */
}

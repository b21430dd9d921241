/*
 * det_count: distinct counting of identifiers without keeping them.
 *
 * Values are reduced to 64-bit keyed hashes (SipHash-1-3, det_count_hash)
 * with a key random per process or from configuration, so neither memory
 * nor a core dump holds an identifier in clear, and hashes from two
 * gerbang processes with different keys cannot be joined. A counter is
 * exact (an open-addressing set of hashes) up to exact_cap values, then
 * turns into a HyperLogLog sketch of 2^p one-byte registers (standard error
 * 1.04 / sqrt(2^p): 1.6 % at p = 12, 0.8 % at p = 14), estimated with
 * Ertl's improved estimator (no bias correction tables, good from 0 up).
 * Memory is bounded: at most 32 * exact_cap + 2^p + 264 bytes of tables
 * (a sketch keeps a histogram of its registers beside them, and the set
 * it came from, for when det_count_clear() makes it exact again).
 *
 * A counter belongs to one thread at a time.
 */
#ifndef DET_COUNT_H
#define DET_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DET_COUNT_P_MIN		4
#define DET_COUNT_P_MAX		16
#define DET_COUNT_KEY_LEN	16

struct det_count;

/*
 * det_count_hash()'s key for values of one type, made ready once
 * (det_count_hkey_init): the state SipHash starts from. Key material:
 * wipe it with explicit_bzero when done.
 */
struct det_count_hkey {
	uint64_t	v[4];
};

/* --- det_count.c --- */

/* SipHash-2-4 of p[0..n) with a 16-byte key. Any thread. */
uint64_t det_siphash24(const uint8_t key[DET_COUNT_KEY_LEN], const void *p,
	    size_t n);
/* The hash the counters use for value v[0..n) of type t: SipHash-1-3 of
 * the value with the key's second word changed by the type. */
uint64_t det_count_hash(const uint8_t key[DET_COUNT_KEY_LEN], unsigned t,
	    const char *v, size_t n);
/* The same in two steps: the key for type t into *out, then the hash of
 * v[0..n) with it (det_count_hash_k(k, v, n) == det_count_hash(key, t,
 * v, n)), without reading the key again per value. Any thread. */
void	det_count_hkey_init(const uint8_t key[DET_COUNT_KEY_LEN], unsigned t,
	    struct det_count_hkey *out);
uint64_t det_count_hash_k(const struct det_count_hkey *k, const char *v,
	    size_t n);
/* 16 random bytes from the kernel (getrandom). Returns 0 or -1. */
int	det_count_key_random(uint8_t key[DET_COUNT_KEY_LEN]);

/*
 * A counter: exact up to exact_cap (1 to 1 << 20) distinct hashes, then
 * HyperLogLog with 2^p registers (DET_COUNT_P_MIN..MAX). Returns 0 with
 * *out set (caller owns, det_count_free()), -1 on bad arguments or when
 * memory is short.
 */
int	det_count_new(unsigned exact_cap, unsigned p, struct det_count **out);
void	det_count_free(struct det_count *c);
/* Empty again (keeps its tables). */
void	det_count_clear(struct det_count *c);
/*
 * Add a hash. Returns 1 when the counter changed (a new value while
 * exact, a raised register after), 0 when it did not, -1 when memory is
 * short while growing the exact set (the counter then turns into a sketch
 * early, and the value is counted).
 */
int	det_count_add(struct det_count *c, uint64_t h);
/*
 * Add hashes h[0..n) (borrowed) in order, as n det_count_add() calls
 * would, in one loop. Those that changed the counter (1 or -1) are
 * written to chg[] in order when chg is not NULL (room for n; it may not
 * be h); *nomem (may be NULL) gets how many of them were -1. Returns how
 * many changed it.
 */
size_t	det_count_add_n(struct det_count *c, const uint64_t *h, size_t n,
	    uint64_t *chg, size_t *nomem);
/* The number of distinct hashes added: exact, or the sketch estimate. */
uint64_t det_count_estimate(const struct det_count *c);
/* True while the counter is exact. */
bool	det_count_is_exact(const struct det_count *c);
/*
 * Add everything src counted to dst (union). Both must have the same p.
 * Returns 0, or -1 when memory is short or p differs.
 */
int	det_count_merge(struct det_count *dst, const struct det_count *src);
/* Bytes of memory the counter holds. */
size_t	det_count_bytes(const struct det_count *c);

#endif /* DET_COUNT_H */

/*
 * Unit tests for detectors/det_count.c: SipHash-2-4 against the reference
 * vectors, both hashes against a byte-wise reference at every length and
 * alignment (and with a key made ready), exact counting up to the cap,
 * batched adds as single ones, the sketch's accuracy (within 2 %
 * at 1M values with p = 14), merge, clear and bad arguments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/det_count.h"

static const uint8_t key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15 };

static void
test_siphash(void **state)
{
	uint8_t m[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	/* Aumasson & Bernstein, vectors.h (little-endian outputs). */
	assert_true(det_siphash24(key, m, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(det_siphash24(key, m, 1) == 0x74f839c593dc67fdULL);
	assert_true(det_siphash24(key, m, 8) == 0x93f5f5799a932462ULL);
	assert_true(det_siphash24(key, m, 15) == 0xa129ca6149be45e5ULL);
	assert_true(det_siphash24(key, m, 63) == 0x958a324ceb064572ULL);
	/* Type is part of the hash. */
	assert_true(det_count_hash(key, 0, "3171", 4) !=
	    det_count_hash(key, 1, "3171", 4));
	{
		uint8_t k1[16], k2[16];

		assert_int_equal(det_count_key_random(k1), 0);
		assert_int_equal(det_count_key_random(k2), 0);
		assert_memory_not_equal(k1, k2, 16);
	}
}

#define RL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

/*
 * SipHash-c-d as the paper writes it, the tail a byte at a time: the
 * reference for every value length and every alignment below.
 */
static uint64_t
ref_sip(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n, int c, int d)
{
	uint64_t v[4] = { 0x736f6d6570736575ULL ^ k0,
	    0x646f72616e646f6dULL ^ k1, 0x6c7967656e657261ULL ^ k0,
	    0x7465646279746573ULL ^ k1 };
	uint64_t m;
	size_t i, j, blocks = n / 8 + 1;
	int r;

	for (i = 0; i < blocks; i++) {
		m = 0;
		for (j = 0; j < 8 && i * 8 + j < n; j++)
			m |= (uint64_t)p[i * 8 + j] << (8 * j);
		if (i == blocks - 1)
			m |= (uint64_t)n << 56;
		v[3] ^= m;
		for (r = 0; r < c + (i == blocks - 1 ? d + 1 : 0); r++) {
			if (r == c) {
				v[0] ^= m;
				v[2] ^= 0xff;
				continue;
			}
			v[0] += v[1]; v[1] = RL(v[1], 13); v[1] ^= v[0];
			v[0] = RL(v[0], 32);
			v[2] += v[3]; v[3] = RL(v[3], 16); v[3] ^= v[2];
			v[0] += v[3]; v[3] = RL(v[3], 21); v[3] ^= v[0];
			v[2] += v[1]; v[1] = RL(v[1], 17); v[1] ^= v[2];
			v[2] = RL(v[2], 32);
		}
		if (i < blocks - 1)
			v[0] ^= m;
	}
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64_t
le64k(const uint8_t *p)
{
	uint64_t x = 0;
	int i;

	for (i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

/* Every length 0-64 at every alignment 0-7, both hashes. */
static void
test_siphash_lengths(void **state)
{
	uint8_t buf[80];
	uint64_t k0 = le64k(key), k1 = le64k(key + 8);
	size_t n, a, i;
	unsigned t;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (a = 0; a < 8; a++)
		for (n = 0; n <= 64; n++) {
			assert_true(det_siphash24(key, buf + a, n) ==
			    ref_sip(k0, k1, buf + a, n, 2, 4));
			for (t = 0; t < 3; t++) {
				struct det_count_hkey hk;

				assert_true(det_count_hash(key, t,
				    (const char *)buf + a, n) ==
				    ref_sip(k0, k1 ^ ((uint64_t)t + 1) *
				    0x9e3779b97f4a7c15ULL, buf + a, n, 1, 3));
				det_count_hkey_init(key, t, &hk);
				assert_true(det_count_hash_k(&hk,
				    (const char *)buf + a, n) ==
				    det_count_hash(key, t,
				    (const char *)buf + a, n));
			}
		}
}

static uint64_t
h(uint64_t i)
{
	return det_siphash24(key, &i, sizeof(i));
}

static void
test_exact(void **state)
{
	struct det_count *c;
	uint64_t i;

	(void)state;
	assert_int_equal(det_count_new(1000, 12, &c), 0);
	assert_int_equal(det_count_estimate(c), 0);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(det_count_add(c, h(i)), 1);
		assert_int_equal(det_count_add(c, h(i)), 0);
	}
	assert_true(det_count_is_exact(c));
	assert_int_equal(det_count_estimate(c), 1000);
	assert_int_equal(det_count_add(c, 0), 1);	/* 0 is a value too */
	assert_false(det_count_is_exact(c));
	/* The set (2048 slots) stays for reuse beside the sketch. */
	assert_true(det_count_bytes(c) <= 32 * 1000 + 4096 + 512);
	det_count_clear(c);
	assert_int_equal(det_count_estimate(c), 0);
	assert_true(det_count_is_exact(c));
	/* Reused: exact again, then a sketch again, from empty. */
	for (i = 0; i < 1000; i++)
		assert_int_equal(det_count_add(c, h(i + 5000)), 1);
	assert_int_equal(det_count_estimate(c), 1000);
	assert_int_equal(det_count_add(c, h(4999)), 1);
	assert_false(det_count_is_exact(c));
	assert_true(det_count_estimate(c) >= 980 && det_count_estimate(c) <= 1020);
	det_count_free(c);
	det_count_free(NULL);
	assert_int_equal(det_count_new(0, 12, &c), -1);
	assert_int_equal(det_count_new(10, 3, &c), -1);
	assert_int_equal(det_count_new(10, 17, &c), -1);
}

/*
 * det_count_add_n() against one det_count_add() per value, through the
 * set's growth, the turn into a sketch mid-batch and the sketch: the same
 * changes in the same order, the same counts after every batch.
 */
static void
test_add_n(void **state)
{
	static const size_t sizes[] = { 1, 7, 64, 200, 3, 256, 1000 };
	struct det_count *one, *many;
	uint64_t v[1000], chg[1000], want[1000], x = 0;
	size_t k, i, n, w, got, bad;
	int r;

	(void)state;
	assert_int_equal(det_count_new(300, 12, &one), 0);
	assert_int_equal(det_count_new(300, 12, &many), 0);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		n = sizes[k];
		for (i = 0; i < n; i++)	/* a third repeats; 0 is a value */
			v[i] = i % 3 == 2 ? v[i / 2] : i == 5 ? 0 : h(x++);
		for (i = 0, w = 0; i < n; i++) {
			r = det_count_add(one, v[i]);
			assert_true(r >= 0);
			if (r != 0)
				want[w++] = v[i];
		}
		got = det_count_add_n(many, v, n, chg, &bad);
		assert_int_equal(got, w);
		assert_int_equal(bad, 0);
		assert_memory_equal(chg, want, w * sizeof(want[0]));
		assert_int_equal(det_count_estimate(many),
		    det_count_estimate(one));
		assert_int_equal(det_count_is_exact(many),
		    det_count_is_exact(one));
	}
	assert_false(det_count_is_exact(many));
	/* Without chg and nomem; nothing new: no change. */
	assert_int_equal(det_count_add_n(many, v, 10, NULL, NULL), 0);
	assert_int_equal(det_count_add_n(many, v, 0, chg, &bad), 0);
	assert_int_equal(bad, 0);
	det_count_free(one);
	det_count_free(many);
}

static double
err(uint64_t est, uint64_t n)
{
	return est > n ? (double)(est - n) / (double)n :
	    (double)(n - est) / (double)n;
}

static void
test_accuracy(void **state)
{
	static const uint64_t sizes[] = { 300, 2000, 10000, 50000, 200000,
	    1000000 };
	struct det_count *c;
	uint64_t i, n = 0;
	size_t k;

	(void)state;
	assert_int_equal(det_count_new(256, 14, &c), 0);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		for (; n < sizes[k]; n++)
			(void)det_count_add(c, h(n));
		if (err(det_count_estimate(c), n) > 0.02)
			fail_msg("p=14 n=%llu: estimate %llu",
			    (unsigned long long)n,
			    (unsigned long long)det_count_estimate(c));
	}
	/* Repeats do not count. */
	for (i = 0; i < 100000; i++)
		(void)det_count_add(c, h(i));
	assert_true(err(det_count_estimate(c), n) <= 0.02);
	assert_true(det_count_bytes(c) <= 32 * 256 + 16384 + 512);
	det_count_free(c);
	/* p = 12: 1.6 % standard error; within 5 % at 100k. */
	assert_int_equal(det_count_new(64, 12, &c), 0);
	for (i = 0; i < 100000; i++)
		(void)det_count_add(c, h(i + 7777777));
	assert_true(err(det_count_estimate(c), 100000) <= 0.05);
	det_count_free(c);
}

static void
test_merge(void **state)
{
	struct det_count *a, *b, *x;
	uint64_t i;

	(void)state;
	assert_int_equal(det_count_new(100, 12, &a), 0);
	assert_int_equal(det_count_new(100, 12, &b), 0);
	assert_int_equal(det_count_new(100, 10, &x), 0);
	for (i = 0; i < 60; i++)
		(void)det_count_add(a, h(i));
	for (i = 30; i < 80; i++)
		(void)det_count_add(b, h(i));
	assert_int_equal(det_count_merge(a, b), 0);
	assert_int_equal(det_count_estimate(a), 80);
	assert_int_equal(det_count_merge(a, x), -1);	/* p differs */
	/* exact into sketch, sketch into exact */
	for (i = 1000; i < 50000; i++)
		(void)det_count_add(b, h(i));
	det_count_clear(a);
	for (i = 0; i < 10; i++)
		(void)det_count_add(a, h(i + 900000));
	assert_int_equal(det_count_merge(a, b), 0);
	assert_false(det_count_is_exact(a));
	assert_true(err(det_count_estimate(a), 49000 + 50 + 10) <= 0.05);
	det_count_free(a);
	det_count_free(b);
	det_count_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_siphash_lengths),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_add_n),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
